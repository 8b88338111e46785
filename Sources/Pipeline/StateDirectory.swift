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

    public func create() throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
}
