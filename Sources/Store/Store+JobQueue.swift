import Foundation
import GRDB

// The durable job queue. A job moves pending → leased → done, or back to pending with a delay when
// a retryable failure leaves attempts, or to dead (the dead-letter list) when none is left. A lease
// that expires — its worker crashed or hung — makes the job available again, as a new attempt.

extension Store {
    /// Adds the job for `key` unless it exists; enqueuing the same key again returns the existing job,
    /// whatever its state, so a reconciler that resumes after a crash can enqueue blindly.
    ///
    /// - Parameters:
    ///   - maxAttempts: How many leases the job gets before it is dead-lettered.
    ///   - backoff: The delays between attempts after retryable failures.
    ///   - notBefore: The earliest date a worker may lease it.
    /// - Returns: The job, and whether this call created it.
    @discardableResult
    public func enqueue(
        _ key: JobKey,
        payload: Data = Data(),
        maxAttempts: Int,
        backoff: RetryBackoff = .standard,
        notBefore: Date = .now,
        now: Date = .now
    ) throws -> (job: Job, created: Bool) {
        try write("enqueue \(key)") { db in
            try Transaction(db: db, store: self).enqueue(
                key,
                payload: payload,
                maxAttempts: maxAttempts,
                backoff: backoff,
                notBefore: notBefore,
                now: now
            )
        }
    }

    /// Takes the oldest due job — by `notBefore`, then by id — for `worker`: a pending job whose
    /// `notBefore` has come, or a leased job whose lease expired (its worker is gone). The job's
    /// `attempts` goes up by one. Two workers, even in two processes, never get the same lease.
    ///
    /// An expired lease on a job's last attempt is not handed out again: the job is dead-lettered,
    /// since a job that keeps killing its worker must not loop forever.
    ///
    /// - Parameters:
    ///   - steps: Only jobs of these steps (all when `nil`).
    ///   - duration: How long the lease lasts; ``renew(jobID:worker:for:now:)`` extends it.
    /// - Returns: The leased job, or `nil` when none is due (see ``nextDueDate(steps:)``).
    public func lease(worker: String, steps: Set<JobStep>? = nil, for duration: TimeInterval, now: Date = .now) throws -> Job? {
        try write("lease a job for \(worker)") { db in
            try Transaction(db: db, store: self).lease(worker: worker, steps: steps, for: duration, now: now)
        }
    }

    /// Extends `worker`'s lease on a job to `now + duration`; long jobs call it before the lease ends.
    ///
    /// - Throws: ``StoreError/leaseLost(jobID:worker:holder:state:)`` when the worker no longer holds it.
    @discardableResult
    public func renew(jobID: Int64, worker: String, for duration: TimeInterval, now: Date = .now) throws -> Job {
        try write("renew the lease on job \(jobID)") { db in
            try Transaction(db: db, store: self).renew(jobID: jobID, worker: worker, for: duration, now: now)
        }
    }

    /// Marks a job done with the worker's `result`. A worker whose lease expired may still complete
    /// the job as long as nobody took it over.
    ///
    /// - Throws: ``StoreError/leaseLost(jobID:worker:holder:state:)`` when another worker holds the
    ///   job or it is no longer leased; ``StoreError/jobNotFound(id:)``.
    public func complete(jobID: Int64, worker: String, result: Data? = nil, now: Date = .now) throws {
        try write("complete job \(jobID)") { db in
            try Transaction(db: db, store: self).complete(jobID: jobID, worker: worker, result: result, now: now)
        }
    }

    /// Records a failed attempt. A retryable failure with attempts left puts the job back to pending
    /// after the job's backoff delay; otherwise the job is dead, its error kept. Either way an event
    /// (`job.retry` or `job.dead`) keeps the error in the task's history.
    ///
    /// - Returns: The job after the change.
    /// - Throws: ``StoreError/leaseLost(jobID:worker:holder:state:)``; ``StoreError/jobNotFound(id:)``.
    @discardableResult
    public func fail(jobID: Int64, worker: String, error: String, retryable: Bool, now: Date = .now) throws -> Job {
        try write("record the failure of job \(jobID)") { db in
            try Transaction(db: db, store: self).fail(jobID: jobID, worker: worker, error: error, retryable: retryable, now: now)
        }
    }

    /// Gives a dead job a fresh set of attempts (`devsys task retry`): pending from `now`, attempts 0.
    ///
    /// - Throws: ``StoreError/jobNotFound(id:)``; ``StoreError/jobNotDead(id:state:)``.
    @discardableResult
    public func requeueDeadJob(id: Int64, now: Date = .now) throws -> Job {
        try write("requeue job \(id)") { db in try Transaction(db: db, store: self).requeueDeadJob(id: id, now: now) }
    }

    public func job(id: Int64) throws -> Job? {
        try read("read job \(id)") { db in try Self.fetchJob(db, id: id) }
    }

    public func job(key: JobKey) throws -> Job? {
        try read("read job \(key)") { db in
            try Row.fetchOne(
                db.cachedStatement(sql: JobSQL.selectByKey),
                arguments: [key.taskID, key.step.rawValue, key.inputCommit]
            ).map(Job.init(row:))
        }
    }

    /// A task's jobs, oldest first.
    public func jobs(taskID: String) throws -> [Job] {
        try read("list the jobs of task \(taskID)") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Job.columns) FROM job WHERE task_id = ? ORDER BY id"), arguments: [taskID])
                .map(Job.init(row:))
        }
    }

    /// The dead-letter list: jobs that failed for good, oldest first.
    public func deadJobs() throws -> [Job] {
        try read("list dead jobs") { db in
            try Row.fetchAll(db, sql: "SELECT \(Job.columns) FROM job WHERE state = 'dead' ORDER BY id").map(Job.init(row:))
        }
    }

    /// When the next job becomes available to ``lease(worker:steps:for:now:)``: the earliest
    /// `notBefore` of a pending job or expiry of a lease; `nil` when no job is open. A worker with
    /// nothing to do sleeps until then (or until it is told about new work).
    public func nextDueDate(steps: Set<JobStep>? = nil) throws -> Date? {
        try read("find the next due job") { db in
            let filter = Self.stepFilter(steps)
            let milliseconds = try Int64.fetchOne(
                db,
                sql: """
                    SELECT min(due) FROM (
                        SELECT min(not_before) AS due FROM job WHERE state = 'pending'\(filter)
                        UNION ALL
                        SELECT min(lease_expires) FROM job WHERE state = 'leased'\(filter))
                    """
            )
            return milliseconds.map(Date.init(storeMilliseconds:))
        }
    }

    static func fetchJob(_ db: Database, id: Int64) throws -> Job? {
        try Row.fetchOne(db.cachedStatement(sql: JobSQL.selectByID), arguments: [id]).map(Job.init(row:))
    }

    /// ` AND step IN ('coding', …)` for a step filter, empty for none. The names come from
    /// ``JobStep``, never from a user, so they are written into the SQL; sorted, so that each filter
    /// has one cached statement.
    static func stepFilter(_ steps: Set<JobStep>?) -> String {
        guard let steps else { return "" }
        return " AND step IN (\(steps.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")))"
    }
}

extension Store.Transaction {
    @discardableResult
    public func enqueue(
        _ key: JobKey,
        payload: Data = Data(),
        maxAttempts: Int,
        backoff: RetryBackoff = .standard,
        notBefore: Date = .now,
        now: Date = .now
    ) throws -> (job: Job, created: Bool) {
        let inserted = try Row.fetchOne(
            db.cachedStatement(sql: JobSQL.insert),
            arguments: [
                key.taskID, key.step.rawValue, key.inputCommit, payload, max(1, maxAttempts), backoff.base, backoff.max,
                backoff.jitter, notBefore.storeMilliseconds, now.storeMilliseconds, now.storeMilliseconds,
            ]
        )
        if let inserted { return (try Job(row: inserted), true) }
        let existing = try Row.fetchOne(
            db.cachedStatement(sql: JobSQL.selectByKey),
            arguments: [key.taskID, key.step.rawValue, key.inputCommit]
        )
        guard let existing else { throw DatabaseError(message: "job \(key) neither inserted nor found") }
        return (try Job(row: existing), false)
    }

    public func lease(worker: String, steps: Set<JobStep>? = nil, for duration: TimeInterval, now: Date = .now) throws -> Job? {
        let nowMilliseconds = now.storeMilliseconds
        try deadLetterExpiredLastAttempts(now: now)

        let leased = try Row.fetchOne(
            db.cachedStatement(sql: steps.map { JobSQL.lease(filter: Store.stepFilter($0)) } ?? JobSQL.leaseAnyStep),
            arguments: [nowMilliseconds, worker, now.addingTimeInterval(duration).storeMilliseconds]
        )
        return try leased.map(Job.init(row:))
    }

    @discardableResult
    public func renew(jobID: Int64, worker: String, for duration: TimeInterval, now: Date = .now) throws -> Job {
        let renewed = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    UPDATE job SET lease_expires = ?, updated_at = ?
                    WHERE id = ? AND state = 'leased' AND lease_owner = ?
                    RETURNING \(Job.columns)
                    """
            ),
            arguments: [now.addingTimeInterval(duration).storeMilliseconds, now.storeMilliseconds, jobID, worker]
        )
        guard let renewed else { throw try leaseError(jobID: jobID, worker: worker) }
        return try Job(row: renewed)
    }

    public func complete(jobID: Int64, worker: String, result: Data? = nil, now: Date = .now) throws {
        try db.cachedStatement(
            sql: """
                UPDATE job SET state = 'done', result = ?, lease_expires = NULL, updated_at = ?
                WHERE id = ? AND state = 'leased' AND lease_owner = ?
                """
        ).execute(arguments: [result, now.storeMilliseconds, jobID, worker])
        if db.changesCount == 0 { throw try leaseError(jobID: jobID, worker: worker) }
    }

    @discardableResult
    public func fail(jobID: Int64, worker: String, error: String, retryable: Bool, now: Date = .now) throws -> Job {
        guard let job = try Store.fetchJob(db, id: jobID) else { throw StoreError.jobNotFound(id: jobID) }
        guard job.state == .leased, job.leaseOwner == worker else { throw try leaseError(jobID: jobID, worker: worker) }
        var data = [
            "job": String(jobID), "step": job.key.step.rawValue, "inputCommit": job.key.inputCommit,
            "attempt": String(job.attempts), "error": error,
        ]
        if retryable && job.attempts < job.maxAttempts {
            let delay = job.backoff.delay(afterAttempt: job.attempts, unit: store.random.unitInterval())
            let notBefore = now.addingTimeInterval(delay)
            try db.cachedStatement(
                sql: """
                    UPDATE job SET state = 'pending', not_before = ?, lease_owner = NULL, lease_expires = NULL,
                        last_error = ?, updated_at = ?
                    WHERE id = ?
                    """
            ).execute(arguments: [notBefore.storeMilliseconds, error, now.storeMilliseconds, jobID])
            data["retryIn"] = String(delay)
            try appendEvent(
                taskID: job.key.taskID,
                kind: .jobRetry,
                message: "\(job.key.step.rawValue) attempt \(job.attempts) of \(job.maxAttempts) failed, retrying in \(delay) s: \(error)",
                data: data,
                at: now
            )
        } else {
            try db.cachedStatement(
                sql: "UPDATE job SET state = 'dead', lease_expires = NULL, last_error = ?, updated_at = ? WHERE id = ?"
            ).execute(arguments: [error, now.storeMilliseconds, jobID])
            let why = retryable ? "attempt \(job.attempts) of \(job.maxAttempts) failed" : "failed, not retryable"
            try appendEvent(
                taskID: job.key.taskID,
                kind: .jobDead,
                message: "\(job.key.step.rawValue) \(why): \(error)",
                data: data,
                at: now
            )
        }
        guard let updated = try Store.fetchJob(db, id: jobID) else { throw StoreError.jobNotFound(id: jobID) }
        return updated
    }

    @discardableResult
    public func requeueDeadJob(id: Int64, now: Date = .now) throws -> Job {
        guard let job = try Store.fetchJob(db, id: id) else { throw StoreError.jobNotFound(id: id) }
        guard job.state == .dead else {
            throw StoreError.jobNotDead(id: id, state: job.state)
        }
        try db.cachedStatement(
            sql: """
                UPDATE job SET state = 'pending', attempts = 0, not_before = ?, lease_owner = NULL, lease_expires = NULL,
                    updated_at = ?
                WHERE id = ?
                """
        ).execute(arguments: [now.storeMilliseconds, now.storeMilliseconds, id])
        try appendEvent(
            taskID: job.key.taskID,
            kind: .jobRequeued,
            message: "\(job.key.step.rawValue) requeued after: \(job.lastError ?? "")",
            data: ["job": String(id), "step": job.key.step.rawValue, "inputCommit": job.key.inputCommit],
            at: now
        )
        guard let updated = try Store.fetchJob(db, id: id) else { throw StoreError.jobNotFound(id: id) }
        return updated
    }

    /// Why `worker` cannot act on job `jobID`: it does not exist, or someone else (or nobody) holds it.
    func leaseError(jobID: Int64, worker: String) throws -> StoreError {
        guard let job = try Store.fetchJob(db, id: jobID) else { return .jobNotFound(id: jobID) }
        return .leaseLost(jobID: jobID, worker: worker, holder: job.state == .leased ? job.leaseOwner : nil, state: job.state)
    }
}

/// The statements on the queue's hot path, written once so that each call finds its prepared
/// statement in the connection's cache without building the SQL again.
enum JobSQL {
    static let insert = """
        INSERT INTO job (task_id, step, input_commit, payload, state, attempts, max_attempts,
                         backoff_base, backoff_max, backoff_jitter, not_before, created_at, updated_at)
        VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (task_id, step, input_commit) DO NOTHING
        RETURNING \(Job.columns)
        """

    static let selectByKey = "SELECT \(Job.columns) FROM job WHERE task_id = ? AND step = ? AND input_commit = ?"

    static let selectByID = "SELECT \(Job.columns) FROM job WHERE id = ?"

    /// ?1: now.
    static let deadLetterExpiredLastAttempts = """
        UPDATE job SET state = 'dead', lease_expires = NULL, updated_at = ?1,
            last_error = 'the lease of ' || lease_owner || ' expired during its last attempt ('
                || attempts || ' of ' || max_attempts || '): the worker stopped or hung'
        WHERE state = 'leased' AND lease_expires <= ?1 AND attempts >= max_attempts
        RETURNING id, task_id, step, input_commit, last_error
        """

    static let leaseAnyStep = lease(filter: "")

    /// ?1: now, ?2: worker, ?3: lease expiry. The first due pending job and the first expired lease
    /// each come from their own partial index; the earlier of the two by (not_before, id) is taken.
    static func lease(filter: String) -> String {
        """
        UPDATE job SET state = 'leased', attempts = attempts + 1, lease_owner = ?2, lease_expires = ?3, updated_at = ?1
        WHERE id = (
            SELECT id FROM (
                SELECT * FROM (
                    SELECT id, not_before FROM job WHERE state = 'pending' AND not_before <= ?1\(filter)
                    ORDER BY not_before, id LIMIT 1)
                UNION ALL
                SELECT * FROM (
                    SELECT id, not_before FROM job WHERE state = 'leased' AND lease_expires <= ?1\(filter)
                    ORDER BY not_before, id LIMIT 1))
            ORDER BY not_before, id LIMIT 1)
        RETURNING \(Job.columns)
        """
    }
}
