import ArgumentParser
import ControlRepository
import Foundation
import Git

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

/// The identity devsys commits as when a command acts for the user: git's own settings when
/// present (GIT_AUTHOR_NAME / EMAIL), else "devsys".
func actingSignature() -> Signature {
    let environment = ProcessInfo.processInfo.environment
    return Signature(
        name: environment["GIT_AUTHOR_NAME"] ?? "devsys",
        email: environment["GIT_AUTHOR_EMAIL"] ?? "devsys@localhost"
    )
}

/// Encodes a value as pretty, key-sorted JSON on stdout.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
