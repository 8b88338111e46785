import ControlRepository
import Foundation

/// The controller's own files (`--state`; default `devsys/` inside the git directory): the store,
/// test reports, scratch checkouts and the socket the post-receive hook wakes it through.
public struct StateDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) {
        self.url = url.standardizedFileURL
    }

    /// `<git dir>/devsys`, the default.
    public static func inside(gitDirectory: URL) -> StateDirectory {
        StateDirectory(gitDirectory.appendingPathComponent(ControlRepository.stateFolderName))
    }

    public var storeFile: URL { url.appendingPathComponent(ControlRepository.storeFileName) }
    /// Where agents check commits out; emptied per run.
    public var workFolder: URL { url.appendingPathComponent("work") }
    /// A Unix datagram socket a running controller listens on; `devsys notify` writes to it.
    public var notifySocket: URL { url.appendingPathComponent("notify.sock") }
    /// Held (flock) by the one controller that runs jobs for this state directory.
    public var controllerLock: URL { url.appendingPathComponent("controller.lock") }

    /// `<state>/tasks/<id>/reports/`, where the testing agent keeps its JUnit reports.
    public func reportsFolder(taskID: String) -> URL {
        url.appendingPathComponent("tasks").appendingPathComponent(taskID).appendingPathComponent("reports")
    }

    /// Whether the store file exists: a controller has run with this state folder.
    public var hasStore: Bool { FileManager.default.fileExists(atPath: storeFile.path) }

    /// Makes the folder, readable by the controller's user only (0700; an existing one is
    /// tightened), and the store file in it 0600 when it exists: it holds the audit log and, with
    /// the API, token hashes.
    public func create() throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try Self.restrict(url.path, to: 0o700)
        for suffix in ["", "-wal", "-shm"] {
            let file = storeFile.path + suffix
            if FileManager.default.fileExists(atPath: file) { try Self.restrict(file, to: 0o600) }
        }
    }

    static func restrict(_ path: String, to mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
