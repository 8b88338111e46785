import Foundation
import GRDB

extension Store {
    /// How many jobs are in each state; every state is present, 0 when it has none.
    public func jobCounts() throws -> [JobState: Int] {
        try read("count jobs by state") { db in
            var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM job GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// The jobs in `state`, oldest first, at most `limit` of them — or, with `newest`, the latest
    /// `limit`, still oldest first.
    public func jobs(in state: JobState, limit: Int, newest: Bool = false) throws -> [Job] {
        try read("list \(state.rawValue) jobs") { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Job.columns) FROM job WHERE state = ? ORDER BY id \(newest ? "DESC" : "ASC") LIMIT ?"),
                arguments: [state.rawValue, limit]
            )
            let jobs = try rows.map(Job.init(row:))
            return newest ? jobs.reversed() : jobs
        }
    }

    /// How many tasks are in each state; every state is present, 0 when it has none.
    public func taskCounts() throws -> [TaskState: Int] {
        try read("count tasks by state") { db in
            var counts = Dictionary(uniqueKeysWithValues: TaskState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM task GROUP BY state") {
                if let state = TaskState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }
}
