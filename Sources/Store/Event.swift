import Foundation
import GRDB

/// One line of history: a task changed state, a job failed, the reconciler saw a new commit.
/// Events are append-only.
public struct Event: Codable, Sendable, Equatable {
    public var id: Int64
    /// The task it concerns, or `nil` for the controller as a whole.
    public var taskID: String?
    /// What happened, dotted: `task.state`, `job.retry`, `job.dead`, `reconcile.commit`…
    public var kind: String
    /// A sentence for people.
    public var message: String
    /// Details for scripts (`from`, `to`, `error`…).
    public var data: [String: String]
    public var at: Date

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
        kind: String,
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

    /// The events appended after event `id`, oldest first: what happened since a run began.
    public func events(after id: Int64, limit: Int = 10_000) throws -> [Event] {
        try read("read events") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM event WHERE id > ? ORDER BY id LIMIT ?"), arguments: [id, limit])
                .map(Event.init(row:))
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
        kind: String,
        message: String,
        data: [String: String] = [:],
        at date: Date = .now
    ) throws -> Int64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(data), as: UTF8.self)
        try db.cachedStatement(sql: "INSERT INTO event (task_id, kind, message, data, at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [taskID, kind, message, json, date.storeMilliseconds])
        return db.lastInsertedRowID
    }
}
