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

/// Runs a domain action, reporting what it threw as `devsys: <why>` (exit 1).
func failingAsCommand<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CommandFailure {
        throw error
    } catch {
        throw CommandFailure("\(error)")
    }
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
