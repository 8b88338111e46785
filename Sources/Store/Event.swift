import Foundation
import GRDB
import Specs

/// One line of history: a task changed state, a job failed, the reconciler saw a new commit.
/// Events are append-only.
public struct Event: Codable, Sendable, Equatable {
    public var id: Int64
    /// The task it concerns, or `nil` for the controller as a whole.
    public var taskID: String?
    /// What happened, dotted: `task.state`, `job.retry`, `job.dead`… (an ``EventKind``; kept as
    /// text, so that an event a newer devsys wrote still reads).
    public var kind: String

    /// The kind, when this devsys knows it.
    public var eventKind: EventKind? { EventKind(rawValue: kind) }
    /// A sentence for people.
    public var message: String
    /// Details for scripts (`from`, `to`, `error`…).
    public var data: [String: String]
    public var at: Date

    /// Whether the event records something going wrong: a failed step, deploy or check
    /// (`*.failed`), a job retried or given up, an invalid spec, a refused deploy, a task that failed.
    public var isFailure: Bool {
        kind.hasSuffix(".failed") || Self.failureKinds.contains(kind) || (kind == "task.state" && data["to"] == "failed")
    }

    /// The kinds that are failures besides `*.failed` (see `isFailure`).
    static let failureKinds: Set<String> = ["job.retry", "job.dead", "spec.invalid", "deploy.refused"]

    /// `isFailure` in SQL.
    static let failureFilter = """
        (kind LIKE '%.failed' OR kind IN (\(failureKinds.sorted().map { "'\($0)'" }.joined(separator: ", "))) \
        OR (kind = 'task.state' AND json_extract(data, '$.to') = 'failed'))
        """

    init(row: Row) throws {
        id = row["id"]
        taskID = row["task_id"]
        kind = row["kind"]
        message = row["message"]
        let json: String = row["data"]
        data = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        at = Date(storeMilliseconds: row["at"])
    }
}

extension Store {
    /// Appends an event to the history.
    @discardableResult
    public func appendEvent(
        taskID: String?,
        kind: EventKind,
        message: String,
        data: [String: String] = [:],
        at date: Date = .now
    ) throws -> Int64 {
        try write("append a \(kind) event") { db in
            try Transaction(db: db, store: self).appendEvent(taskID: taskID, kind: kind, message: message, data: data, at: date)
        }
    }

    /// The latest `limit` events, of one task or (with `nil`) of all, in the order they were
    /// appended: newest last.
    public func events(taskID: String? = nil, limit: Int = 100) throws -> [Event] {
        try read("read events") { db in
            let rows: [Row]
            if let taskID {
                rows = try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT * FROM event WHERE task_id = ? ORDER BY id DESC LIMIT ?"),
                    arguments: [taskID, limit]
                )
            } else {
                rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM event ORDER BY id DESC LIMIT ?"), arguments: [limit])
            }
            return try rows.reversed().map(Event.init(row:))
        }
    }

    /// The events appended after event `id` (all with 0), of one task or of all, oldest first, at
    /// most `limit`: what happened since a run began, or what a follower polls for.
    public func events(after id: Int64, taskID: String? = nil, limit: Int = 10_000) throws -> [Event] {
        try read("read events after \(id)") { db in
            let rows: [Row]
            if let taskID {
                rows = try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT * FROM event WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?"),
                    arguments: [taskID, id, limit]
                )
            } else {
                rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM event WHERE id > ? ORDER BY id LIMIT ?"), arguments: [id, limit])
            }
            return try rows.map(Event.init(row:))
        }
    }

    /// The latest event that records a failure (see ``Event/isFailure``), if any.
    public func latestFailure() throws -> Event? {
        try read("find the latest failure") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM event WHERE \(Event.failureFilter) ORDER BY id DESC LIMIT 1").map(Event.init(row:))
        }
    }

    /// The id of the latest event, 0 when there is none.
    public func lastEventID() throws -> Int64 {
        try read("read the latest event id") { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM event") ?? 0 }
    }
}

extension Store.Transaction {
    @discardableResult
    public func appendEvent(
        taskID: String?,
        kind: EventKind,
        message: String,
        data: [String: String] = [:],
        at date: Date = .now
    ) throws -> Int64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(data), as: UTF8.self)
        try db.cachedStatement(sql: "INSERT INTO event (task_id, kind, message, data, at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [taskID, kind.rawValue, message, json, date.storeMilliseconds])
        return db.lastInsertedRowID
    }
}
