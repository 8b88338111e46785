import Foundation
import GRDB

extension Store.Transaction {
    /// The job for `key`, made to run again: created when new; a finished (`done`) or dead one
    /// goes back to pending with the new payload and a fresh count of attempts; a pending or
    /// leased one is left as it is. For explicit restarts (`devsys task retry`, a deleted task
    /// branch): job keys are unique, so plain ``enqueue(_:payload:maxAttempts:backoff:notBefore:now:)``
    /// would hand back the finished job.
    @discardableResult
    public func restart(
        _ key: JobKey,
        payload: Data = Data(),
        maxAttempts: Int,
        backoff: RetryBackoff = .standard,
        now: Date = .now
    ) throws -> Job {
        let (job, created) = try enqueue(key, payload: payload, maxAttempts: maxAttempts, backoff: backoff, now: now)
        guard !created, job.state == .done || job.state == .dead else { return job }
        try db.execute(
            sql: """
                UPDATE job SET state = 'pending', attempts = 0, max_attempts = ?, payload = ?, not_before = ?,
                    lease_owner = NULL, lease_expires = NULL, last_error = NULL, result = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [max(1, maxAttempts), payload, now.storeMilliseconds, now.storeMilliseconds, job.id]
        )
        try appendEvent(
            taskID: key.taskID,
            kind: .jobRestarted,
            message: "\(key.step.rawValue) at \(key.inputCommit.prefix(12)) runs again (it was \(job.state.rawValue))",
            data: ["job": String(job.id), "step": key.step.rawValue, "inputCommit": key.inputCommit],
            at: now
        )
        guard let restarted = try Store.fetchJob(db, id: job.id) else { throw StoreError.jobNotFound(id: job.id) }
        return restarted
    }
}
