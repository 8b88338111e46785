import Actions
import ArgumentParser
import ControlRepository
import Foundation
import Git
import Pipeline
import Specs
import Store

/// `--repo`, shared by every command that works on a control repository and its state.
struct RepositoryOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The control repository (a bare repository or a work tree).",
            discussion: """
                Default: $DEVSYS_REPO, else the repository around the working directory — or, in a clone \
                whose origin is a control repository on this machine (bare, or with devsys state), that one.
                """,
            valueName: "dir"
        )
    )
    var repo: String?

    /// The control repository, found as `--repo`'s help says.
    func open() throws -> ControlRepository {
        try locate().control
    }

    /// The control repository and how it was found.
    func locate() throws -> ControlRepository.Location {
        do {
            return try ControlRepository.locate(RepositoryLookup(path: repo), scope: .control)
        } catch let error as any DomainError {
            throw error
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

/// `--repo` for commands that work on the files, index or hooks of the repository at hand
/// (`validate`, `hooks install`): in a clone, the clone itself.
struct LocalRepositoryOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The repository (a work tree or a bare repository).",
            discussion: "Default: the repository around the working directory (in a clone, the clone itself; DEVSYS_REPO is not read).",
            valueName: "dir"
        )
    )
    var repo: String?

    func open() throws -> ControlRepository {
        do {
            return try ControlRepository.locate(RepositoryLookup(path: repo), scope: .local).control
        } catch let error as any DomainError {
            throw error
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
            discussion: "Default: devsys/ inside the git directory of the control repository.",
            valueName: "dir"
        )
    )
    var state: String?

    /// The control repository and its state folder, which may not exist yet.
    func locate() throws -> (control: ControlRepository, state: StateDirectory) {
        let (location, folder) = try locateState()
        return (location.control, folder)
    }

    private func locateState() throws -> (ControlRepository.Location, StateDirectory) {
        let location = try repository.locate()
        let folder = state.map { StateDirectory(URL(fileURLWithPath: $0)) } ?? StateDirectory(location.defaultStateFolder)
        return (location, folder)
    }

    /// The repository path to hand to controller parts (they open their own handles).
    func repositoryPath(of control: ControlRepository) -> String {
        control.repository.gitDirectory.path
    }

    /// Opens the store of the control repository. Without `creatingState` a store must be there
    /// already (a controller has run): a command that reads state fails, saying where it looked,
    /// rather than making an empty store in the wrong repository.
    func openStore(creatingState: Bool = false) throws -> (control: ControlRepository, state: StateDirectory, store: Store) {
        let (location, state, store) = try openLocatedStore(creatingState: creatingState)
        return (location.control, state, store)
    }

    /// The control plane of the control repository, on its store (see `openStore`).
    func openControlPlane(creatingState: Bool = false) throws -> (control: ControlRepository, plane: ControlPlane) {
        let (control, state, store) = try openStore(creatingState: creatingState)
        return (control, try ControlPlane(repositoryPath: repositoryPath(of: control), state: state, store: store))
    }

    /// `openStore(creatingState:)`, with how the control repository was found.
    func openLocatedStore(creatingState: Bool = false) throws -> (location: ControlRepository.Location, state: StateDirectory, store: Store) {
        let (location, folder) = try locateState()
        do {
            if creatingState {
                try folder.create()
            } else {
                try location.requireState(in: folder.url, overridden: state != nil)
            }
            return (location, folder, try Store(path: folder.storeFile))
        } catch let error as any DomainError {
            throw error
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}
