import Foundation
import Pipeline
import Store

/// What a running `devsys serve` recorded in its store, read as `devsys events` reads it, for
/// benchmarks that time the controller. The times are the controller's own (events carry whole
/// milliseconds), so how often this polls changes when a wait ends, never a figure. An agent
/// cannot tell the time to the benchmark instead: its sandbox hides the state folder and gives it
/// a private `/tmp`.
final class ControllerHistory {
    let store: Store

    /// Opens the store of the controller serving the bare repository `bare` (its default state
    /// folder) once that controller listens for the post-receive hook: a push before that would
    /// wait for its next poll.
    init(bare: String, within seconds: Double = 60) throws {
        let state = StateDirectory.inside(gitDirectory: URL(fileURLWithPath: bare))
        try Self.poll("devsys serve to listen on \(state.notifySocket.path)", within: seconds) {
            FileManager.default.fileExists(atPath: state.storeFile.path) && FileManager.default.fileExists(atPath: state.notifySocket.path)
        }
        store = try Store(path: state.storeFile)
    }

    /// When the controller moved `taskID` to `coding`: its coding job started (the lane leased the
    /// job, the sandbox was recorded; the agent's checkout and sandbox come next).
    func codingStarted(_ taskID: String, within seconds: Double) throws -> Date {
        var cursor: Int64 = 0
        var started: Date?
        try Self.poll("the coding job of \(taskID) to start", within: seconds) {
            for event in try store.events(after: cursor, taskID: taskID) {
                cursor = event.id
                if event.eventKind == .taskState, event.data["to"] == TaskState.coding.rawValue {
                    started = event.at
                    return true
                }
            }
            return false
        }
        return started!
    }

    /// Waits until no task is queued for or in coding: the coding lane is free again, so the next
    /// push finds it as the first did.
    func waitUntilCodingIsIdle(within seconds: Double) throws {
        try Self.poll("the coding lane to be idle", within: seconds) { try store.tasks(states: [.queued, .coding]).isEmpty }
    }

    /// Checks `condition` every 2 ms until it holds; throws after `seconds`.
    static func poll(_ what: String, within seconds: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try !condition() {
            guard Date() < deadline else { throw BenchmarkError("gave up after \(Int(seconds)) s waiting for \(what)") }
            usleep(2_000)
        }
    }
}
