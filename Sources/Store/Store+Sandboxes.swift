import Foundation
import GRDB

extension Store {
    /// Records that the worker holding `jobID`'s lease starts sandbox `name` for it. Throws
    /// ``StoreError/leaseLost(jobID:worker:holder:state:)`` when the worker no longer holds it.
    public func recordSandbox(_ name: String, jobID: Int64, worker: String, now: Date = .now) throws {
        try write("record sandbox \(name) of job \(jobID)") { db in
            let holder = try String.fetchOne(db, sql: "SELECT lease_owner FROM job WHERE id = ? AND state = 'leased'", arguments: [jobID])
            guard holder == worker else { throw try Transaction(db: db, store: self).leaseError(jobID: jobID, worker: worker) }
            try db.execute(
                sql: "INSERT OR REPLACE INTO job_sandbox (name, job_id, worker, started_at) VALUES (?, ?, ?, ?)",
                arguments: [name, jobID, worker, now.storeMilliseconds]
            )
        }
    }

    /// The sandboxes recorded for `jobID` (a predecessor's, when the job was taken over).
    public func sandboxes(ofJob jobID: Int64) throws -> [String] {
        try read("read the sandboxes of job \(jobID)") { db in
            try String.fetchAll(db, sql: "SELECT name FROM job_sandbox WHERE job_id = ? ORDER BY started_at", arguments: [jobID])
        }
    }

    /// Forgets sandbox `name`, once it has ended.
    public func forgetSandbox(_ name: String) throws {
        try write("forget sandbox \(name)") { db in
            try db.execute(sql: "DELETE FROM job_sandbox WHERE name = ?", arguments: [name])
        }
    }
}
