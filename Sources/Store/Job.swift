import Foundation
import GRDB

/// The pipeline step a job performs.
public enum JobStep: String, Codable, Sendable, CaseIterable {
    case coding, testing, merge, deploy, monitor
}

/// What a job works on: a task (coding, testing, merge), or an environment (a deploy: one job per
/// environment and commit, whichever tasks the commit ships). Kept in the job's `task_id` column
/// as the task id, or as `env/<name>` — task ids never contain a `/`.
public enum JobSubject: Hashable, Sendable, CustomStringConvertible {
    case task(String)
    case environment(String)

    static let environmentPrefix = "env/"

    /// The subject a stored `task_id` names.
    public init(storedName: String) {
        self =
            storedName.hasPrefix(Self.environmentPrefix)
            ? .environment(String(storedName.dropFirst(Self.environmentPrefix.count))) : .task(storedName)
    }

    /// What the `task_id` column holds.
    public var storedName: String {
        switch self {
        case .task(let id): id
        case .environment(let name): Self.environmentPrefix + name
        }
    }

    public var description: String { storedName }
}

/// What makes a job unique: the same step on the same task and input commit is the same work, so
/// enqueuing it twice gives one job.
public struct JobKey: Hashable, Codable, Sendable, CustomStringConvertible {
    public var taskID: String
    public var step: JobStep
    /// The commit the step works from (the task branch head for testing, the merge commit for deploy…).
    public var inputCommit: String

    public init(taskID: String, step: JobStep, inputCommit: String) {
        self.taskID = taskID
        self.step = step
        self.inputCommit = inputCommit
    }

    public init(subject: JobSubject, step: JobStep, inputCommit: String) {
        self.init(taskID: subject.storedName, step: step, inputCommit: inputCommit)
    }

    /// The task or environment the job works on.
    public var subject: JobSubject { JobSubject(storedName: taskID) }

    public var description: String { "\(step.rawValue) of \(taskID) at \(inputCommit)" }
}

/// Where a job is in the queue.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// Waiting for a worker, from `notBefore` on.
    case pending
    /// A worker holds it until `leaseExpires`; after that another worker may take it over.
    case leased
    /// Completed; `result` holds what the worker returned.
    case done
    /// Failed for good (attempts exhausted or a non-retryable error); `lastError` says why.
    case dead
}

/// One step of one task in the durable queue. Execution is at-least-once: a worker that dies
/// mid-job loses its lease and the job runs again, so a job's work must be idempotent.
public struct Job: Codable, Sendable, Equatable {
    public var id: Int64
    public var key: JobKey
    /// The step's input, as JSON.
    public var payload: Data
    public var state: JobState
    /// How many times the job has been leased, this lease included.
    public var attempts: Int
    public var maxAttempts: Int
    public var backoff: RetryBackoff
    /// The job is not leased before this date.
    public var notBefore: Date
    public var leaseOwner: String?
    public var leaseExpires: Date?
    public var lastError: String?
    /// What the worker returned on completion, as JSON.
    public var result: Data?
    public var createdAt: Date
    public var updatedAt: Date

    /// The columns ``init(row:)`` reads, in its order. Queries on the lease path select these and
    /// decode by position: looking columns up by name costs more than the rest of the decoding.
    static let columns = """
        id, task_id, step, input_commit, payload, state, attempts, max_attempts, backoff_base, backoff_max,
        backoff_jitter, not_before, lease_owner, lease_expires, last_error, result, created_at, updated_at
        """

    /// Decodes a row of ``columns``.
    init(row: Row) throws {
        let stepName: String = row[2]
        let stateName: String = row[5]
        guard let step = JobStep(rawValue: stepName), let state = JobState(rawValue: stateName) else {
            throw DatabaseError(message: "job \(row[0] as Int64) has unknown step \(stepName) or state \(stateName)")
        }
        id = row[0]
        key = JobKey(taskID: row[1], step: step, inputCommit: row[3])
        payload = row[4]
        self.state = state
        attempts = row[6]
        maxAttempts = row[7]
        backoff = RetryBackoff(base: row[8], max: row[9], jitter: row[10])
        notBefore = Date(storeMilliseconds: row[11])
        leaseOwner = row[12]
        leaseExpires = (row[13] as Int64?).map(Date.init(storeMilliseconds:))
        lastError = row[14]
        result = row[15]
        createdAt = Date(storeMilliseconds: row[16])
        updatedAt = Date(storeMilliseconds: row[17])
    }
}
