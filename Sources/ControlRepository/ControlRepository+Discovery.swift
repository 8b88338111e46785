import Foundation
import Git

/// What a command was told about where its repository is: `--repo`, the environment
/// (`DEVSYS_REPO`) and the working directory.
public struct RepositoryLookup: Sendable {
    /// `--repo`, taken as it is (not followed to an origin).
    public var path: String?
    /// The process's environment: `DEVSYS_REPO`, and git's `GIT_CEILING_DIRECTORIES` for the search upwards.
    public var environment: [String: String]
    /// Where the search for the repository around the working directory starts.
    public var workingDirectory: String

    public init(
        path: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.path = path
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

extension ControlRepository {
    /// The environment variable naming the control repository when `--repo` is not given.
    public static let repositoryVariable = "DEVSYS_REPO"
    /// The controller's state folder inside the git directory, by default (`--state` overrides it).
    public static let stateFolderName = "devsys"
    /// The store's file inside the state folder; a state folder without it holds no state.
    public static let storeFileName = "devsys.sqlite"

    /// Which repository a command means.
    public enum Scope: Sendable {
        /// The repository whose files, index and hooks the command works on (`validate`,
        /// `hooks install`): `--repo`, else the one around the working directory.
        case local
        /// The control repository that a controller runs on, and its state: `--repo`, else
        /// `DEVSYS_REPO`, else the repository around the working directory — unless that one is a
        /// clone whose `origin` is a control repository on this machine (a bare repository, or a
        /// work tree with devsys state), which is then used instead.
        case control
    }

    /// A repository as a command found it, and how.
    public struct Location {
        public let control: ControlRepository
        /// How it was found, for messages: `/srv/blog.git (from --repo)`,
        /// `/srv/blog.git (the origin of the clone /home/ada/blog)`.
        public let foundBy: String
        /// Repositories looked at and passed over on the way, each with why.
        public let passedOver: [String]

        /// `devsys/` inside the git directory: the state folder unless `--state` names another.
        public var defaultStateFolder: URL {
            control.repository.gitDirectory.appendingPathComponent(ControlRepository.stateFolderName, isDirectory: true)
        }

        /// Checks that `stateFolder` holds a store, for commands that read state and must not
        /// create an empty one.
        /// - Parameter overridden: whether `stateFolder` came from `--state` rather than the default.
        /// - Throws: `ControlRepositoryError.noState` saying what was looked at and how to point
        ///   at the right repository.
        public func requireState(in stateFolder: URL, overridden: Bool) throws {
            let store = stateFolder.appendingPathComponent(ControlRepository.storeFileName)
            guard !FileManager.default.fileExists(atPath: store.path) else { return }
            var looked = overridden ? ["--state \(stateFolder.path) (no \(store.lastPathComponent) in it)"] : []
            looked.append(foundBy + (overridden ? "" : ": no devsys state (\(store.path) does not exist)"))
            throw ControlRepositoryError.noState(lookedAt: looked + passedOver)
        }
    }

    /// Finds the repository a command means (see `Scope`).
    /// - Throws: `ControlRepositoryError.notARepository` when `--repo` or `DEVSYS_REPO` names no
    ///   repository, `.noRepositoryAround` when no folder from the working directory up is one.
    public static func locate(_ lookup: RepositoryLookup, scope: Scope) throws -> Location {
        if let path = lookup.path {
            return Location(
                control: try open(path, from: "--repo"),
                foundBy: "\(absolute(path, in: lookup.workingDirectory)) (from --repo)",
                passedOver: []
            )
        }
        if scope == .control, let path = lookup.environment[repositoryVariable], !path.isEmpty {
            return Location(
                control: try open(path, from: repositoryVariable),
                foundBy: "\(absolute(path, in: lookup.workingDirectory)) (from \(repositoryVariable))",
                passedOver: []
            )
        }
        let around: Repository
        do {
            around = try Repository.discover(from: lookup.workingDirectory, environment: lookup.environment)
        } catch {
            throw ControlRepositoryError.noRepositoryAround(lookup.workingDirectory)
        }
        let local = ControlRepository(around)
        let name = local.displayPath
        let foundLocally = "\(name) (the repository around the working directory)"
        guard scope == .control, !around.isBare else { return Location(control: local, foundBy: foundLocally, passedOver: []) }
        switch local.originControlRepository() {
        case .control(let origin):
            return Location(control: origin, foundBy: "\(origin.displayPath) (the origin of the clone \(name))", passedOver: [])
        case .passedOver(let why):
            return Location(control: local, foundBy: foundLocally, passedOver: why.map { "\(name)'s \($0)" })
        }
    }

    /// The work tree, or the git directory of a bare repository.
    public var displayPath: String {
        (repository.workingDirectory ?? repository.gitDirectory).standardizedFileURL.path
    }

    /// Whether the default state folder holds a store.
    public var hasState: Bool {
        let store = repository.gitDirectory.appendingPathComponent(Self.stateFolderName).appendingPathComponent(Self.storeFileName)
        return FileManager.default.fileExists(atPath: store.path)
    }

    private enum Origin {
        case control(ControlRepository)
        /// Why the origin is not the control repository (nothing when there is no origin).
        case passedOver([String])
    }

    /// The repository `origin` names, when it is on this machine and is a control repository.
    private func originControlRepository() -> Origin {
        guard let url = try? repository.remoteURL(named: "origin") else { return .passedOver([]) }
        guard let path = Self.localPath(ofRemoteURL: url) else {
            return .passedOver(["origin \(url) is not on this machine (devsys reads the state of a local path or file:// URL only)"])
        }
        let base = (repository.workingDirectory ?? repository.gitDirectory).path
        let resolved = Self.absolute(path, in: base)
        guard let origin = try? Repository.open(at: resolved) else {
            return .passedOver(["origin \(resolved) is not a git repository"])
        }
        let control = ControlRepository(origin)
        guard origin.isBare || control.hasState else {
            return .passedOver(["origin \(control.displayPath) is a work tree without devsys state"])
        }
        return .control(control)
    }

    /// The folder a remote URL names when it is a local path or a `file://` URL; nil for network
    /// URLs (`ssh://`, `https://`, scp-like `host:path`). Follows git's rule: `://` makes a URL;
    /// a colon before the first slash makes scp-like syntax; anything else is a path.
    static func localPath(ofRemoteURL url: String) -> String? {
        if url.hasPrefix("file://") {
            return URL(string: url)?.path ?? String(url.dropFirst("file://".count))
        }
        if url.contains("://") { return nil }
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") { return nil }
        return url
    }

    private static func open(_ path: String, from source: String) throws -> ControlRepository {
        do {
            return ControlRepository(try Repository.open(at: path))
        } catch {
            throw ControlRepositoryError.notARepository(path, underlying: "\(error)", source: source)
        }
    }

    private static func absolute(_ path: String, in base: String) -> String {
        (path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: base).appendingPathComponent(path)).standardizedFileURL.path
    }
}
