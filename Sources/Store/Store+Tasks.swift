import Foundation
import GRDB

extension Store {
    /// Inserts `task`, or replaces every field of the task with its id except `createdAt`.
    /// A new task gets a `task.created` event in the same transaction.
    ///
    /// - Returns: Whether the task was new.
    @discardableResult
    public func upsertTask(_ task: TaskRecord) throws -> Bool {
        try write("save task \(task.id)") { db in try Transaction(db: db, store: self).upsertTask(task) }
    }

    /// The task with `id`, if the store has it.
    public func task(id: String) throws -> TaskRecord? {
        try read("read task \(id)") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM task WHERE id = ?"), arguments: [id])
                .map(TaskRecord.init(row:))
        }
    }

    /// The tasks in `states` (all tasks when `nil`), by id.
    public func tasks(states: Set<TaskState>? = nil) throws -> [TaskRecord] {
        try read("list tasks") { db in
            var sql = "SELECT * FROM task"
            var arguments = StatementArguments()
            if let states {
                let names = states.map(\.rawValue).sorted()
                sql += " WHERE state IN (\(databaseQuestionMarks(count: names.count)))"
                arguments = StatementArguments(names)
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments).map(TaskRecord.init(row:))
        }
    }

    /// Moves a task to `to` if its state is one of `from` (compare-and-swap), recording a
    /// `task.state` event in the same transaction.
    ///
    /// - Parameters:
    ///   - reason: Stored as the task's reason (`nil` clears it).
    ///   - attempt: The new attempt number, if it changes.
    /// - Returns: `false`, with nothing changed, when the task's state is not in `from`: someone
    ///   else moved it first.
    /// - Throws: ``StoreError/taskNotFound(id:)``.
    @discardableResult
    public func transition(
        taskID: String,
        from: Set<TaskState>,
        to: TaskState,
        reason: String?,
        attempt: Int? = nil,
        at date: Date = .now
    ) throws -> Bool {
        try write("move task \(taskID) to \(to.rawValue)") { db in
            try Transaction(db: db, store: self).transition(
                taskID: taskID,
                from: from,
                to: to,
                reason: reason,
                attempt: attempt,
                at: date
            )
        }
    }

    /// Deletes every task, before `devsys reindex` reads them again from git. Jobs, events and the
    /// audit log are history and stay: re-enqueued jobs find their finished selves.
    ///
    /// - Returns: How many tasks were deleted.
    @discardableResult
    public func deleteAllTasks() throws -> Int {
        try write("delete all tasks") { db in try Transaction(db: db, store: self).deleteAllTasks() }
    }
}

extension Store.Transaction {
    @discardableResult
    public func upsertTask(_ task: TaskRecord) throws -> Bool {
        let exists = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM task WHERE id = ?"), arguments: [task.id]) ?? false
        try db.cachedStatement(
            sql: """
                INSERT INTO task (id, state, app, title, spec_commit, spec_blob, branch_head, attempt, max_attempts,
                                  reason, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    state = excluded.state, app = excluded.app, title = excluded.title,
                    spec_commit = excluded.spec_commit, spec_blob = excluded.spec_blob,
                    branch_head = excluded.branch_head, attempt = excluded.attempt,
                    max_attempts = excluded.max_attempts, reason = excluded.reason, updated_at = excluded.updated_at
                """
        ).execute(arguments: [
            task.id, task.state.rawValue, task.app, task.title, task.specCommit, task.specBlob, task.branchHead,
            task.attempt, task.maxAttempts, task.reason, task.createdAt.storeMilliseconds,
            task.updatedAt.storeMilliseconds,
        ])
        if !exists {
            try appendEvent(
                taskID: task.id,
                kind: .taskCreated,
                message: "task \(task.id) created in state \(task.state.rawValue)",
                data: ["state": task.state.rawValue, "specCommit": task.specCommit],
                at: task.createdAt
            )
        }
        return !exists
    }

    @discardableResult
    public func transition(
        taskID: String,
        from: Set<TaskState>,
        to: TaskState,
        reason: String?,
        attempt: Int? = nil,
        at date: Date = .now
    ) throws -> Bool {
        guard
            let current = try String.fetchOne(
                db.cachedStatement(sql: "SELECT state FROM task WHERE id = ?"),
                arguments: [taskID]
            )
        else { throw StoreError.taskNotFound(id: taskID) }
        guard let state = TaskState(rawValue: current), from.contains(state) else { return false }
        try db.cachedStatement(
            sql: "UPDATE task SET state = ?, reason = ?, attempt = coalesce(?, attempt), updated_at = ? WHERE id = ?"
        ).execute(arguments: [to.rawValue, reason, attempt, date.storeMilliseconds, taskID])
        var data = ["from": state.rawValue, "to": to.rawValue]
        if let reason { data["reason"] = reason }
        if let attempt { data["attempt"] = String(attempt) }
        try appendEvent(
            taskID: taskID,
            kind: .taskState,
            message: "\(state.rawValue) → \(to.rawValue)" + (reason.map { ": \($0)" } ?? ""),
            data: data,
            at: date
        )
        return true
    }
}

extension Store.Transaction {
    /// ``Store/task(id:)`` inside a transaction.
    public func task(id: String) throws -> TaskRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM task WHERE id = ?"), arguments: [id]).map(TaskRecord.init(row:))
    }

    /// ``Store/deleteAllTasks()`` inside a transaction, so a reindex replaces the tasks in one step.
    @discardableResult
    public func deleteAllTasks() throws -> Int {
        try db.execute(sql: "DELETE FROM task")
        return db.changesCount
    }
}
