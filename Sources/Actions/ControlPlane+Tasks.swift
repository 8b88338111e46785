import ControlRepository
import Foundation
import Git
import Pipeline
import Specs
import Store

/// What a person does to a task as a whole — start a failed one again, or cancel one — and the
/// reads of tasks. Actions need `developer` or higher.
extension ControlPlane {
    public static let taskRole = Principal.Role.developer

    /// Where a task can be cancelled from: anywhere before its change reached the trunk.
    public static let cancellable: Set<TaskState> = [.queued, .coding, .testing, .review, .failed, .rejected]

    /// What a retry did: the task as it is now, the step it starts from again and the job that runs it.
    public struct Retried: Sendable {
        public var task: TaskRecord
        public var step: TaskRetry.Step
        public var job: Job
    }

    /// Starts a failed or rejected task again from the step that failed (`TaskRetry`).
    /// - Throws: `PipelineError` (unknown, not failed or rejected, spec gone), `ActionRefusal`
    ///   (cancelled, role).
    @discardableResult
    public func retry(taskID: String, by actor: Principal) async throws -> Retried {
        try await act(actor, "task.retry", target: "task/\(taskID)") { [self] _ in
            try actor.require(Self.taskRole, to: "retry task \(taskID)")
            guard let task = try store.task(id: taskID) else { throw PipelineError.unknownTask(taskID) }
            if task.state == .cancelled { throw ActionRefusal.cancelled(taskID: taskID, reason: task.reason) }
            let (record, step, job) = try TaskRetry(repositoryPath: repositoryPath, store: store).retry(taskID: taskID, actor: actor.name)
            return Retried(task: record, step: step, job: job)
        }
    }

    /// Cancels a task that has not reached the trunk: it becomes `cancelled` with the reason, and
    /// a `task.cancelled` event is recorded. Its queued jobs then find it in the wrong state and
    /// end without running their step. A change to its spec on the trunk starts it again.
    /// - Returns: The task as it is now.
    /// - Throws: `PipelineError.unknownTask`, `ActionRefusal` (merged or later, role).
    @discardableResult
    public func cancel(taskID: String, reason: String? = nil, by actor: Principal, at date: Date = .now) async throws -> TaskRecord {
        try await act(actor, "task.cancel", target: "task/\(taskID)") { [store] _ in
            try actor.require(Self.taskRole, to: "cancel task \(taskID)")
            let why = "cancelled by \(actor.name)" + (reason.map { ": " + $0.replacingOccurrences(of: "\n", with: " ") } ?? "")
            guard let task = try store.task(id: taskID) else { throw PipelineError.unknownTask(taskID) }
            guard Self.cancellable.contains(task.state) else { throw ActionRefusal.cannotCancel(taskID: taskID, state: task.state) }
            return try store.transaction { transaction in
                guard try transaction.transition(taskID: taskID, from: [task.state], to: .cancelled, reason: why, at: date) else {
                    throw PipelineError.wrongState(taskID, task.state, expected: "where it was (it moved meanwhile; try again)")
                }
                _ = try transaction.appendEvent(
                    taskID: taskID,
                    kind: .taskCancelled,
                    message: why,
                    data: ["from": task.state.rawValue, "actor": actor.name],
                    at: date
                )
                var record = task
                record.state = .cancelled
                record.reason = why
                record.updatedAt = date
                return record
            }
        }
    }

    // MARK: Reads

    /// Which tasks `tasks(_:by:)` lists.
    public struct TaskFilter: Sendable {
        /// Any of these states; empty: every state.
        public var states: Set<TaskState> = []
        /// Only tasks whose spec on the trunk carries this tag.
        public var tag: String?
        /// Only tasks of this app.
        public var app: String?
        /// At most this many, after `cursor`.
        public var limit: Int = 500
        /// The last id of the page before (ids sort as they were numbered).
        public var cursor: String?

        public init(states: Set<TaskState> = [], tag: String? = nil, app: String? = nil, limit: Int = 500, cursor: String? = nil) {
            self.states = states
            self.tag = tag
            self.app = app
            self.limit = limit
            self.cursor = cursor
        }
    }

    /// One page of tasks, by id.
    public struct TaskPage: Sendable, Encodable {
        public var tasks: [TaskSummary]
        /// The cursor of the next page; nil on the last.
        public var nextCursor: String?
    }

    /// The tasks the filter selects, by id, one page at a time.
    public func tasks(_ filter: TaskFilter = TaskFilter(), by actor: Principal) async throws -> TaskPage {
        try await read(actor, "tasks") { [self] in
            var tasks = try store.tasks(states: filter.states.isEmpty ? nil : filter.states).sorted { $0.id < $1.id }
            if let cursor = filter.cursor { tasks = tasks.filter { $0.id > cursor } }
            if let app = filter.app { tasks = tasks.filter { $0.app == app } }
            if let tag = filter.tag, !tasks.isEmpty {
                let control = try ControlRepository(repository())
                let (_, snapshots) = try control.specs(named: Set(tasks.map(\.id)), at: control.trunkCommit().commit)
                let tagged = Set(snapshots.filter { $0.spec?.tags.contains(tag) ?? false }.map(\.id))
                tasks = tasks.filter { tagged.contains($0.id) }
            }
            let limit = max(1, filter.limit)
            let page = Array(tasks.prefix(limit))
            return TaskPage(tasks: page.map(TaskSummary.init), nextCursor: tasks.count > limit ? page.last?.id : nil)
        }
    }

    /// One task with what git says about its branch, its latest report, its reviews and history.
    /// - Throws: `PipelineError.unknownTask`.
    public func task(_ id: String, by actor: Principal) async throws -> TaskDetail {
        try await read(actor, "task/\(id)") { [self] in
            guard let task = try store.task(id: id) else { throw PipelineError.unknownTask(id) }
            return try TaskDetail(task, control: ControlRepository(repository()), state: state, store: store)
        }
    }

    /// The latest test report of a task's branch head.
    /// - Throws: `PipelineError.unknownTask`, `.noBranch` (nothing tested yet), `ReportError.none`.
    public func report(taskID: String, by actor: Principal) async throws -> StoredTestReport {
        try await read(actor, "task/\(taskID)/report") { [self] in
            guard let task = try store.task(id: taskID) else { throw PipelineError.unknownTask(taskID) }
            let repository = try repository()
            guard let head = try repository.reference(named: ControlRefs.taskBranch(taskID)) ?? task.branchHead.flatMap(ObjectID.init(hex:)) else {
                throw PipelineError.noBranch(taskID)
            }
            guard let report = try StoredTestReport.latest(for: head, in: repository, reportsFolder: state.reportsFolder(taskID: taskID)) else {
                throw ReportError.none(taskID: taskID, commit: head.hex, state: task.state)
            }
            return report
        }
    }
}

/// Why there is no report to show.
public enum ReportError: DomainError {
    case none(taskID: String, commit: String, state: TaskState)

    public var code: String { "report_not_found" }
    public var category: ErrorCategory { .notFound }

    public var description: String {
        switch self {
        case .none(let id, let commit, let state): "no test report for task/\(id) at \(commit.prefix(12)) yet (the task is \(state.rawValue))"
        }
    }
}
