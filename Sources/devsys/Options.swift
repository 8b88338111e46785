import ArgumentParser
import ControlRepository
import Foundation
import Git
import Pipeline
import Store

/// `--repo`, shared by every command that works on a control repository.
struct RepositoryOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The control repository (a work tree or a bare repository).",
            discussion: "Default: the repository around the working directory.",
            valueName: "dir"
        )
    )
    var repo: String?

    func open() throws -> ControlRepository {
        do {
            return try ControlRepository.open(repo)
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

/// A failure to report on stderr as `devsys: message`, exiting with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ParsableCommand {
    /// Prints `devsys: message` on stderr.
    func warn(_ message: String) {
        FileHandle.standardError.write(Data("devsys: \(message)\n".utf8))
    }
}

/// The absolute path of the running devsys binary, which installed hooks call.
func currentExecutablePath() -> String {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        return path
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
}

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

    /// The person this command acts for. The CLI works with the state folder's own file access,
    /// so it has the `admin` role; roles limit what the manager API's tokens may do.
    func principal(control: ControlRepository) -> Principal {
        if let name = actingAs?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty {
            return Principal(name: name, role: .admin)
        }
        return Principal(name: gitIdentity(control: control).description, role: .admin)
    }
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

/// Encodes a value as pretty, key-sorted JSON on stdout; dates as ISO 8601.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `--repo` and `--state`, for commands that read or drive the controller's store.
struct ControllerOptions: ParsableArguments {
    @OptionGroup var repository: RepositoryOptions

    @Option(
        help: ArgumentHelp(
            "The controller's state folder (store, reports, work folders).",
            discussion: "Default: devsys/ inside the git directory.",
            valueName: "dir"
        )
    )
    var state: String?

    /// The control repository and its state folder.
    func locate() throws -> (control: ControlRepository, state: StateDirectory) {
        let control = try repository.open()
        let folder = state.map { StateDirectory(URL(fileURLWithPath: $0)) } ?? StateDirectory.inside(gitDirectory: control.repository.gitDirectory)
        return (control, folder)
    }

    /// The repository path to hand to controller parts (they open their own handles).
    func repositoryPath(of control: ControlRepository) -> String {
        control.repository.gitDirectory.path
    }

    /// Opens the store (creating it when new).
    func openStore() throws -> (control: ControlRepository, state: StateDirectory, store: Store) {
        let (control, state) = try locate()
        do {
            try state.create()
            return (control, state, try Store(path: state.storeFile))
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}
