import Foundation
import Store

/// No task is left between states with nothing queued (DESIGN §4): a task whose job died — its
/// attempts used up, or its lease expired on the last one because the controller was killed every
/// time — fails with the job's last error as the reason, and `devsys task retry` can take it on
/// from that step.
public struct DeadJobs: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The states in which a task waits for a job of its own.
    static let waitingStates: Set<TaskState> = [.queued, .coding, .testing, .review]

    /// Fails every waiting task whose latest job is dead and that has no open job.
    /// - Returns: the ids of the tasks failed.
    @discardableResult
    public func failTasksOfDeadJobs(now: Date = .now) throws -> [String] {
        var failed: [String] = []
        for task in try store.tasks(states: Self.waitingStates) {
            let jobs = try store.jobs(taskID: task.id)
            guard let latest = jobs.last, latest.state == .dead, !jobs.contains(where: { $0.state == .pending || $0.state == .leased })
            else { continue }
            // A task in review waits for a person unless its merge job died.
            if task.state == .review && latest.key.step != .merge { continue }
            let reason = "the \(latest.key.step.rawValue) job gave up: " + (latest.lastError?.firstLine ?? "no error recorded")
            if try store.transition(taskID: task.id, from: [task.state], to: .failed, reason: reason, at: now) {
                failed.append(task.id)
            }
        }
        return failed
    }
}
