import Foundation
import Git
import Store

/// What a person does to a task as a whole — start a failed one again, or cancel one — for the
/// CLI and the manager API alike. Each checks the actor's role (`developer` or higher) and writes
/// one audit row, refusals included.
public struct TaskActions: Sendable {
    public let repositoryPath: String
    public let store: Store

    public static let role = Principal.Role.developer

    /// Where a task can be cancelled from: anywhere before its change reached the trunk.
    public static let cancellable: Set<TaskState> = [.queued, .coding, .testing, .review, .failed, .rejected]

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// Starts a failed or rejected task again from the step that failed (`TaskRetry`).
    /// - Returns: The task as it is now, the step it starts from again and the job that will run it.
    /// - Throws: `PipelineError` (unknown, not failed or rejected, spec gone), `ActionRefusal`
    ///   (cancelled, role).
    @discardableResult
    public func retry(taskID: String, by actor: Principal) throws -> (task: TaskRecord, step: TaskRetry.Step, job: Job) {
        try store.audited(actor, "task.retry", target: "task/\(taskID)") { _ in
            try actor.require(Self.role, to: "retry task \(taskID)")
            guard let task = try store.task(id: taskID) else { throw PipelineError.unknownTask(taskID) }
            if task.state == .cancelled { throw ActionRefusal.cancelled(taskID: taskID, reason: task.reason) }
            return try TaskRetry(repositoryPath: repositoryPath, store: store).retry(taskID: taskID, actor: actor.name)
        }
    }

    /// Cancels a task that has not reached the trunk: it becomes `cancelled` with the reason, and
    /// a `task.cancelled` event is recorded. Its queued jobs then find it in the wrong state and
    /// end without running their step. A change to its spec on the trunk starts it again.
    /// - Returns: The task as it is now.
    /// - Throws: `PipelineError.unknownTask`, `ActionRefusal` (merged or later, role).
    @discardableResult
    public func cancel(taskID: String, reason: String? = nil, by actor: Principal, at date: Date = .now) throws -> TaskRecord {
        try store.audited(actor, "task.cancel", target: "task/\(taskID)") { _ in
            try actor.require(Self.role, to: "cancel task \(taskID)")
            let why = "cancelled by \(actor.name)" + (reason.map { ": " + $0.replacingOccurrences(of: "\n", with: " ") } ?? "")
            guard let task = try store.task(id: taskID) else { throw PipelineError.unknownTask(taskID) }
            guard Self.cancellable.contains(task.state) else { throw ActionRefusal.cannotCancel(taskID: taskID, state: task.state) }
            return try store.transaction { transaction in
                guard try transaction.transition(taskID: taskID, from: [task.state], to: .cancelled, reason: why, at: date) else {
                    throw PipelineError.wrongState(taskID, task.state, expected: "where it was (it moved meanwhile; try again)")
                }
                _ = try transaction.appendEvent(
                    taskID: taskID,
                    kind: .taskCancelled,
                    message: why,
                    data: ["from": task.state.rawValue, "actor": actor.name],
                    at: date
                )
                var record = task
                record.state = .cancelled
                record.reason = why
                record.updatedAt = date
                return record
            }
        }
    }
}
