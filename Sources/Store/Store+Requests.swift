import Foundation
import GRDB

/// A person's request as a job: put in the queue held (not yet due) while the caller does what must
/// come first — a deploy moves the env ref — then released to the lane that runs it. A caller that
/// dies in between leaves a held job that becomes due by itself after `holdDuration`.
extension Store {
    public static let holdDuration: TimeInterval = 60

    /// Queues `key` held, with `payload`. An existing job of the key that is pending, done or dead
    /// starts afresh as this one; one leased now is running and is left alone (nil) — unless
    /// `takingOverLease`: the caller knows its worker is gone (no process holds the controller lock).
    public func hold(_ key: JobKey, payload: Data, maxAttempts: Int, takingOverLease: Bool = false, now: Date = .now) throws -> Job? {
        try write("hold a job for \(key)") { db in
            let transaction = Transaction(db: db, store: self)
            let heldUntil = now.addingTimeInterval(Self.holdDuration)
            let (job, created) = try transaction.enqueue(key, payload: payload, maxAttempts: maxAttempts, notBefore: heldUntil, now: now)
            if created { return job }
            guard job.state != .leased || takingOverLease else { return nil }
            try db.execute(
                sql: """
                    UPDATE job SET state = 'pending', attempts = 0, max_attempts = ?, payload = ?, not_before = ?,
                        lease_owner = NULL, lease_expires = NULL, last_error = NULL, result = NULL, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [max(1, maxAttempts), payload, heldUntil.storeMilliseconds, now.storeMilliseconds, job.id]
            )
            return try Store.fetchJob(db, id: job.id)
        }
    }

    /// Makes a held job due now.
    public func release(jobID: Int64, now: Date = .now) throws {
        try write("release job \(jobID)") { db in
            try db.execute(
                sql: "UPDATE job SET not_before = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
                arguments: [now.storeMilliseconds, now.storeMilliseconds, jobID]
            )
        }
    }

    /// Ends a held job without running it, with `result` saying why.
    public func withdraw(jobID: Int64, result: Data?, now: Date = .now) throws {
        try write("withdraw job \(jobID)") { db in
            try db.execute(
                sql: "UPDATE job SET state = 'done', result = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
                arguments: [result, now.storeMilliseconds, jobID]
            )
        }
    }

    /// Leases one given job for `worker` if it is pending and due: for a command that runs its own
    /// request when no controller does. Nil when it is not (another worker has it, or it ended).
    public func lease(jobID: Int64, worker: String, for duration: TimeInterval, now: Date = .now) throws -> Job? {
        try write("lease job \(jobID) for \(worker)") { db in
            try Row.fetchOne(
                db,
                sql: """
                    UPDATE job SET state = 'leased', attempts = attempts + 1, lease_owner = ?, lease_expires = ?, updated_at = ?
                    WHERE id = ? AND state = 'pending' AND not_before <= ?
                    RETURNING \(Job.columns)
                    """,
                arguments: [worker, now.addingTimeInterval(duration).storeMilliseconds, now.storeMilliseconds, jobID, now.storeMilliseconds]
            ).map(Job.init(row:))
        }
    }
}
