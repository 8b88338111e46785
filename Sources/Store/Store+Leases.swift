import Foundation
import GRDB

extension Store {
    /// Leases the first due job of `steps` whose task is none of `busyTaskIDs` — the deploy lane
    /// runs one job per environment at a time, and an environment is the task of its deploys.
    public func lease(
        worker: String,
        steps: Set<JobStep>,
        excludingTasks busyTaskIDs: Set<String>,
        for duration: TimeInterval,
        now: Date = .now
    ) throws -> Job? {
        guard !busyTaskIDs.isEmpty else { return try lease(worker: worker, steps: steps, for: duration, now: now) }
        return try write("lease a job for \(worker)") { db in
            let transaction = Transaction(db: db, store: self)
            try transaction.deadLetterExpiredLastAttempts(now: now)
            let busy = String(decoding: try JSONEncoder().encode(busyTaskIDs.sorted()), as: UTF8.self)
            let filter = Self.stepFilter(steps) + " AND task_id NOT IN (SELECT value FROM json_each(?4))"
            let leased = try Row.fetchOne(
                db.cachedStatement(sql: JobSQL.lease(filter: filter)),
                arguments: [now.storeMilliseconds, worker, now.addingTimeInterval(duration).storeMilliseconds, busy]
            )
            return try leased.map(Job.init(row:))
        }
    }

    /// Gives a leased job back without counting the lease as an attempt: the controller is
    /// stopping (or its job was cancelled), not the job failing. The job is pending again at once,
    /// for this controller's successor. An event (`job.handed-back`) says so.
    ///
    /// - Throws: ``StoreError/leaseLost(jobID:worker:holder:state:)`` when `worker` no longer holds it.
    public func handBack(jobID: Int64, worker: String, reason: String, now: Date = .now) throws {
        try write("hand job \(jobID) back") { db in
            try db.cachedStatement(
                sql: """
                    UPDATE job SET state = 'pending', attempts = max(attempts - 1, 0), not_before = ?, lease_owner = NULL,
                        lease_expires = NULL, updated_at = ?
                    WHERE id = ? AND state = 'leased' AND lease_owner = ?
                    """
            ).execute(arguments: [now.storeMilliseconds, now.storeMilliseconds, jobID, worker])
            let handedBack = db.changesCount == 1
            guard let job = try Self.fetchJob(db, id: jobID) else { throw StoreError.jobNotFound(id: jobID) }
            guard handedBack else {
                throw StoreError.leaseLost(jobID: jobID, worker: worker, holder: job.leaseOwner, state: job.state)
            }
            try Transaction(db: db, store: self).appendEvent(
                taskID: job.key.taskID,
                kind: .jobHandedBack,
                message: "\(job.key.step.rawValue) handed back uncounted: \(reason)",
                data: ["job": String(jobID), "step": job.key.step.rawValue, "inputCommit": job.key.inputCommit],
                at: now
            )
        }
    }

    /// How many jobs are leased right now (by any worker).
    public func leasedJobCount() throws -> Int {
        try read("count leased jobs") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE state = 'leased'") ?? 0
        }
    }
}

extension Store.Transaction {
    /// Jobs whose lease expired during their last allowed attempt die here, each with a
    /// `job.dead` event: their worker stopped or hung every time.
    func deadLetterExpiredLastAttempts(now: Date) throws {
        let expired = try Row.fetchAll(
            db.cachedStatement(sql: JobSQL.deadLetterExpiredLastAttempts),
            arguments: [now.storeMilliseconds]
        )
        for row in expired {
            try appendEvent(
                taskID: row["task_id"],
                kind: .jobDead,
                message: row["last_error"],
                data: ["job": String(row["id"] as Int64), "step": row["step"], "inputCommit": row["input_commit"]],
                at: now
            )
        }
    }
}
