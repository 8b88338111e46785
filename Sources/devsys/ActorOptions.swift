import ArgumentParser
import ControlRepository
import Foundation
import Git
import Store

/// `--as`, shared by every command that acts for a person: who the audit log, review notes,
/// bad marks and deploy tags name.
struct ActorOptions: ParsableArguments {
    @Option(
        name: .customLong("as"),
        help: ArgumentHelp(
            "Who is acting: a name, or 'Name <email>'.",
            discussion: """
                Recorded in the audit log, review notes, bad marks and deploy tags. Default: your git \
                identity as git resolves it (GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL, else user.name/user.email \
                of the repository you are in). The CLI acts with the admin role.
                """,
            valueName: "name"
        )
    )
    var actingAs: String?

    func validate() throws {
        if let actingAs, actingAs.contains(where: \.isNewline) { throw ValidationError("--as takes a name on one line") }
    }

    /// The person this command acts for. The CLI works with the state folder's own file access,
    /// so it has the `admin` role; roles limit what the manager API's tokens may do.
    func principal(control: ControlRepository) -> Principal {
        if let name = actingAs?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty {
            return Principal(name: name, role: .admin)
        }
        return localPrincipal(control: control)
    }
}

/// The person at this terminal, for commands that only read: their git identity, with the CLI's
/// `admin` role.
func localPrincipal(control: ControlRepository) -> Principal {
    Principal(name: gitIdentity(control: control).description, role: .admin)
}

/// The user as git names them: the environment's GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL, else the
/// configuration of the repository around the working directory (a clone's), else the control
/// repository's; the login name when none is set.
func gitIdentity(control: ControlRepository? = nil) -> GitIdentity {
    let environment = ProcessInfo.processInfo.environment
    let here = try? Repository.discover(from: FileManager.default.currentDirectoryPath)
    for repository in [here, control?.repository].compactMap({ $0 }) {
        if let identity = try? repository.authorIdentity(environment: environment) { return identity }
    }
    return GitIdentity(name: environment["GIT_AUTHOR_NAME"] ?? environment["USER"] ?? "devsys", email: environment["GIT_AUTHOR_EMAIL"])
}

/// The identity devsys commits as when a command makes commits for the user (`init`, `demo`).
func actingSignature() -> Signature {
    let identity = gitIdentity()
    return Signature(name: identity.name, email: identity.email ?? "devsys@localhost")
}
