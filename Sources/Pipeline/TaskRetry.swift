import Agents
import ControlRepository
import Foundation
import Git
import Specs
import Store

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Restarts a `failed` or `rejected` task (`devsys task retry`): back to `queued` with a fresh
/// round of `max_attempts`, and a coding job that starts from the branch head, with the reason
/// it ended as the agent's feedback.
///
/// Attempt numbers go on from the last one rather than from 1: the coding agent recognises a
/// commit it already made by its `Attempt:` trailer, so a reused number would skip the work.
public struct TaskRetry: Sendable {
    public let repositoryPath: String
    public let store: Store

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// - Returns: The task as it is now, and the coding job that will run.
    /// - Throws: `PipelineError.unknownTask`, `.wrongState` (not failed or rejected),
    ///   `.invalidSpec` (the spec is gone or broken on the trunk).
    @discardableResult
    public func retry(taskID: String, actor: String, now: Date = .now) throws -> (task: TaskRecord, job: Job) {
        guard let task = try store.task(id: taskID) else { throw PipelineError.unknownTask(taskID) }
        guard [.failed, .rejected].contains(task.state) else { throw PipelineError.wrongState(taskID, task.state, expected: "failed or rejected") }
        let context = try TaskContext.load(task: task, repositoryPath: repositoryPath)
        let head = try context.repository.reference(named: "refs/heads/task/\(taskID)")
        let lastAttempt = try head.map { try Reindexer.attemptsUsed(on: $0, taskID: taskID, in: context.repository, trunk: context.trunkCommit) } ?? 0
        let attempt = max(task.attempt, lastAttempt)
        let feedback = "A previous round of this task ended \(task.state.rawValue)" + (task.reason.map { ": \($0)" } ?? ".") + "\n"

        return try store.transaction { transaction in
            guard
                try transaction.transition(taskID: taskID, from: [task.state], to: .queued, reason: "retried by \(actor)", attempt: attempt, at: now)
            else {
                throw PipelineError.wrongState(taskID, task.state, expected: "failed or rejected (it moved meanwhile; try again)")
            }
            var record = task
            record.state = .queued
            record.attempt = attempt
            record.maxAttempts = attempt + context.spec.retryPolicy.maxAttempts
            record.branchHead = head?.hex ?? task.branchHead
            record.reason = "retried by \(actor)"
            record.updatedAt = now
            try transaction.upsertTask(record)
            let job = try transaction.restart(
                JobKey(taskID: taskID, step: .coding, inputCommit: (head ?? context.trunkCommit).hex),
                payload: CodingPayload(feedback: feedback).encoded(),
                maxAttempts: record.maxAttempts + Reconciler.crashAllowance,
                backoff: context.spec.retryPolicy.backoff,
                now: now
            )
            return (record, job)
        }
    }
}
