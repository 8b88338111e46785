import Foundation
import GRDB

/// One line of the audit log: who did (or was refused) what, on what, when (DESIGN §6).
/// The log is append-only; the database refuses to change or delete an entry.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int64
    /// Who: the `--as` name or git identity (`Ada Lovelace <ada@example.com>`), a token's name, `devsys` for the controller, or `anonymous`.
    public var actor: String
    public var role: String
    /// What was asked, e.g. `deploy`, `token.create`.
    public var action: String
    /// What it was asked on, e.g. a task id or `env/production`.
    public var target: String
    /// `ok` (or `ok: detail`), `refused: why`, `failed: why`.
    public var outcome: String
    public var at: Date

    init(row: Row) {
        id = row["id"]
        actor = row["actor"]
        role = row["role"]
        action = row["action"]
        target = row["target"]
        outcome = row["outcome"]
        at = Date(storeMilliseconds: row["at"])
    }
}

extension Store {
    /// Appends an entry to the audit log.
    @discardableResult
    public func appendAudit(
        actor: String,
        role: String,
        action: String,
        target: String,
        outcome: String,
        at date: Date = .now
    ) throws -> AuditEntry {
        try write("append to the audit log") { db in
            try Transaction(db: db, store: self).appendAudit(
                actor: actor,
                role: role,
                action: action,
                target: target,
                outcome: outcome,
                at: date
            )
        }
    }

    /// Which audit entries `audit(_:)` returns.
    public struct AuditFilter: Sendable {
        public var actor: String?
        public var action: String?
        /// Entries whose target starts with this (`env/staging`, `task/001-about`).
        public var target: String?
        public var since: Date?
        public var limit: Int
        /// Entries older than this id (the next page of a newest-first listing).
        public var before: Int64?

        public init(actor: String? = nil, action: String? = nil, target: String? = nil, since: Date? = nil, limit: Int = 100, before: Int64? = nil) {
            self.actor = actor
            self.action = action
            self.target = target
            self.since = since
            self.limit = limit
            self.before = before
        }
    }

    /// A page of the audit log, newest first, as `GET /api/v1/audit` and `devsys audit` show it.
    public func audit(_ filter: AuditFilter = AuditFilter()) throws -> [AuditEntry] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let actor = filter.actor {
            conditions.append("actor = ?")
            arguments += [actor]
        }
        if let action = filter.action {
            conditions.append("action = ?")
            arguments += [action]
        }
        if let target = filter.target {
            conditions.append("substr(target, 1, length(?)) = ?")
            arguments += [target, target]
        }
        if let since = filter.since {
            conditions.append("at >= ?")
            arguments += [since.storeMilliseconds]
        }
        if let before = filter.before {
            conditions.append("id < ?")
            arguments += [before]
        }
        arguments += [max(1, filter.limit)]
        let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read("read the audit log") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit \(condition) ORDER BY id DESC LIMIT ?", arguments: arguments).map(AuditEntry.init(row:))
        }
    }
}

extension Store.Transaction {
    @discardableResult
    public func appendAudit(
        actor: String,
        role: String,
        action: String,
        target: String,
        outcome: String,
        at date: Date = .now
    ) throws -> AuditEntry {
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: "INSERT INTO audit (actor, role, action, target, outcome, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *"
            ),
            arguments: [actor, role, action, target, outcome, date.storeMilliseconds]
        )
        guard let row else { throw DatabaseError(message: "the audit insert returned no row") }
        return AuditEntry(row: row)
    }
}
