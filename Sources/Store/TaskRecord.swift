import Foundation
import GRDB

/// A task as the store knows it: what the spec said when it was read, and how far the pipeline got.
public struct TaskRecord: Codable, Sendable, Equatable {
    /// The task id, the folder name under `specs/`.
    public var id: String
    public var state: TaskState
    public var app: String
    public var title: String
    /// The trunk commit the spec was read at.
    public var specCommit: String
    /// The blob id of `task.yaml` at `specCommit`: a changed spec has a new blob id.
    public var specBlob: String
    /// The head of `task/<id>` when last seen, if the branch exists.
    public var branchHead: String?
    /// How many coding attempts have been made (a test failure starts the next one).
    public var attempt: Int
    public var maxAttempts: Int
    /// Why the task is in its state (a failure, a rejection), if that needs saying.
    public var reason: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        state: TaskState = .queued,
        app: String,
        title: String,
        specCommit: String,
        specBlob: String,
        branchHead: String? = nil,
        attempt: Int = 0,
        maxAttempts: Int,
        reason: String? = nil,
        createdAt: Date = .now,
        updatedAt: Date? = nil
    ) {
        self.id = id
        self.state = state
        self.app = app
        self.title = title
        self.specCommit = specCommit
        self.specBlob = specBlob
        self.branchHead = branchHead
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    init(row: Row) throws {
        let stateName: String = row["state"]
        guard let state = TaskState(rawValue: stateName) else {
            throw DatabaseError(message: "task \(row["id"] as String) has unknown state \(stateName)")
        }
        self.init(
            id: row["id"],
            state: state,
            app: row["app"],
            title: row["title"],
            specCommit: row["spec_commit"],
            specBlob: row["spec_blob"],
            branchHead: row["branch_head"],
            attempt: row["attempt"],
            maxAttempts: row["max_attempts"],
            reason: row["reason"],
            createdAt: Date(storeMilliseconds: row["created_at"]),
            updatedAt: Date(storeMilliseconds: row["updated_at"])
        )
    }
}
