import Agents
import ControlRepository
import Foundation
import Git
import Specs
import Store

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Rebuilds the task table from git alone (`devsys reindex`, DESIGN §4): the specs on the trunk,
/// the `task/<id>` branches, and the notes on their heads say where every task is.
///
/// For each spec on the trunk, in this order: no branch → `queued`; the head is on the trunk →
/// `merged`; a `Rejected-by:` line in the reviews note → `rejected`; a passing test report →
/// `review`; a failing one → `coding` again, or `failed` when the head's attempt used up
/// `max_attempts`; no report → `testing`. A branch whose spec is gone is `cancelled` (or `merged`
/// when it is on the trunk). The job each state waits for is enqueued, as the controller would
/// have, and the reconciler's position is set to the trunk read, so it does not start them again.
///
/// What git does not record comes back as git last saw it: a coding attempt that failed without
/// committing, and a `devsys task retry`, leave no trace on the branch.
public struct Reindexer: Sendable {
    public let repositoryPath: String
    public let store: Store
    /// Where the testing agent keeps report files, read when a head has no tests note.
    public let state: StateDirectory?

    public init(repositoryPath: String, store: Store, state: StateDirectory? = nil) {
        self.repositoryPath = repositoryPath
        self.store = store
        self.state = state
    }

    /// Replaces every task in the store with what git says, and returns the tasks by id.
    ///
    /// Jobs and events are history and stay; the enqueued jobs find their finished selves.
    /// - Throws: `ControlRepositoryError.noTrunk` when the repository has no trunk, `GitError` when
    ///   it cannot be read, `StoreError` when the store cannot be written (the task table is then
    ///   empty or complete, never half-written: run reindex again).
    @discardableResult
    public func reindex(now: Date = .now) throws -> [TaskRecord] {
        let repository = try Repository.open(at: repositoryPath)
        let control = ControlRepository(repository)
        let trunk = try control.trunkCommit()
        let (_, snapshots) = try control.specs(named: nil, at: trunk.commit)
        let previous = Dictionary(try store.tasks().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

        var derived: [DerivedTask] = []
        for snapshot in snapshots {
            derived.append(try derive(snapshot, in: repository, trunk: trunk, previous: previous[snapshot.id], now: now))
        }
        let specIDs = Set(snapshots.map(\.id))
        for branch in try repository.references(withPrefix: ControlRefs.taskBranchPrefix) {
            let id = String(branch.name.dropFirst(ControlRefs.taskBranchPrefix.count))
            guard !specIDs.contains(id) else { continue }
            derived.append(try deriveOrphan(id: id, head: branch.target, in: repository, trunk: trunk, previous: previous[id], now: now))
        }
        derived.sort { $0.record.id < $1.record.id }

        try store.transaction { transaction in
            try transaction.deleteAllTasks()
            for task in derived {
                try transaction.upsertTask(task.record)
                try transaction.appendEvent(
                    taskID: task.record.id,
                    kind: .taskReindexed,
                    message: "\(task.record.state.rawValue), read from git at \(trunk.branch) \(trunk.commit.short): \(task.evidence)",
                    data: ["state": task.record.state.rawValue, "trunk": trunk.commit.hex],
                    at: now
                )
                if let job = task.job {
                    try transaction.enqueue(job.key, payload: job.payload, maxAttempts: job.maxAttempts, backoff: job.backoff, now: now)
                }
            }
            try transaction.setValue(trunk.commit.hex, forKey: Reconciler.positionKey, now: now)
        }
        // A task whose job is already dead (the store outlived it) fails with the job's error, so
        // that `task retry` can take it on; it is never left waiting for a job that will not run.
        let failed = Set(try DeadJobs(store: store).failTasksOfDeadJobs(now: now))
        return try derived.map { task in failed.contains(task.record.id) ? try store.task(id: task.record.id) ?? task.record : task.record }
    }

    /// A task as git shows it, why, and the job its state waits for.
    struct DerivedTask {
        var record: TaskRecord
        var evidence: String
        var job: PendingJob?
    }

    struct PendingJob {
        var key: JobKey
        var payload = Data()
        var maxAttempts: Int
        var backoff = RetryBackoff.standard
    }

    // MARK: Steps

    /// The state of the task of one spec on the trunk.
    private func derive(
        _ snapshot: SpecSnapshot,
        in repository: Repository,
        trunk: (branch: String, commit: ObjectID),
        previous: TaskRecord?,
        now: Date
    ) throws -> DerivedTask {
        let branch = ControlRefs.taskBranch(snapshot.id)
        let head = try repository.reference(named: branch)
        guard snapshot.isValid, let spec = snapshot.spec else {
            let problems = snapshot.diagnostics.filter { $0.severity == .error }
            let reason = "spec is invalid at \(trunk.commit.short): " + (problems.first.map(\.description) ?? "task.yaml does not parse")
            let record = TaskRecord(
                id: snapshot.id,
                state: .failed,
                app: snapshot.spec?.app ?? "",
                title: snapshot.spec?.title ?? snapshot.id,
                specCommit: trunk.commit.hex,
                specBlob: snapshot.taskFile?.hex ?? "",
                branchHead: head?.hex,
                attempt: 0,
                maxAttempts: 0,
                reason: reason,
                createdAt: previous?.createdAt ?? now,
                updatedAt: now
            )
            return DerivedTask(record: record, evidence: "the spec does not validate", job: nil)
        }
        var record = TaskRecord(
            id: spec.id,
            state: .queued,
            app: spec.app,
            title: spec.title,
            specCommit: trunk.commit.hex,
            specBlob: snapshot.taskFile?.hex ?? "",
            branchHead: head?.hex,
            attempt: 0,
            maxAttempts: spec.retryPolicy.maxAttempts,
            reason: nil,
            createdAt: previous?.createdAt ?? now,
            updatedAt: now
        )
        let maxCodingLeases = spec.retryPolicy.maxAttempts + Reconciler.crashAllowance

        guard let head else {
            let job = PendingJob(
                key: JobKey(taskID: spec.id, step: .coding, inputCommit: trunk.commit.hex),
                payload: CodingPayload(feedback: nil).encoded(),
                maxAttempts: maxCodingLeases,
                backoff: spec.retryPolicy.backoff
            )
            return DerivedTask(record: record, evidence: "no branch \(branch)", job: job)
        }
        record.attempt = try Self.attemptsUsed(on: head, taskID: spec.id, in: repository, trunk: trunk.commit)

        if try repository.isAncestor(head, of: trunk.commit) {
            record.state = .merged
            record.reason = "merged into \(trunk.branch): \(head.short) is on it"
            return DerivedTask(record: record, evidence: "task/\(spec.id) at \(head.short) is part of \(trunk.branch)", job: nil)
        }
        let verdicts = (try repository.note(on: head, notesRef: Reviews.notesRef) ?? "").split(separator: "\n").map(String.init)
        if let rejection = verdicts.last(where: { $0.hasPrefix("Rejected-by:") }) {
            record.state = .rejected
            record.reason = Self.rejectionReason(rejection)
            return DerivedTask(record: record, evidence: "the reviews note on \(head.short) says \(rejection)", job: nil)
        }
        guard let report = try? StoredTestReport.latest(for: head, in: repository, reportsFolder: state?.reportsFolder(taskID: spec.id)) else {
            record.state = .testing
            let job = PendingJob(key: JobKey(taskID: spec.id, step: .testing, inputCommit: head.hex), maxAttempts: Reconciler.crashAllowance + 1)
            return DerivedTask(record: record, evidence: "\(head.short) has no test report", job: job)
        }
        if report.passed {
            record.state = .review
            var job: PendingJob?
            if spec.review == .auto {
                job = PendingJob(key: JobKey(taskID: spec.id, step: .merge, inputCommit: head.hex), maxAttempts: Reconciler.crashAllowance + 1)
            }
            return DerivedTask(record: record, evidence: "the tests passed on \(head.short): \(report.summary)", job: job)
        }
        if record.attempt >= record.maxAttempts {
            record.state = .failed
            record.reason = "tests failed on attempt \(record.attempt) of \(record.maxAttempts): \(report.summary)"
            return DerivedTask(record: record, evidence: "the tests failed on \(head.short), the last attempt", job: nil)
        }
        record.state = .coding
        record.reason = "tests failed on \(head.short): \(report.summary)"
        let job = PendingJob(
            key: JobKey(taskID: spec.id, step: .coding, inputCommit: head.hex),
            payload: CodingPayload(feedback: report.feedback).encoded(),
            maxAttempts: maxCodingLeases,
            backoff: spec.retryPolicy.backoff
        )
        return DerivedTask(
            record: record,
            evidence: "the tests failed on \(head.short), attempt \(record.attempt) of \(record.maxAttempts)",
            job: job
        )
    }

    /// A `task/<id>` branch whose spec is no longer on the trunk: `merged` when the trunk has it,
    /// else `cancelled`. The title and app come from the spec as the branch has it.
    private func deriveOrphan(
        id: String,
        head: ObjectID,
        in repository: Repository,
        trunk: (branch: String, commit: ObjectID),
        previous: TaskRecord?,
        now: Date
    ) throws -> DerivedTask {
        let taskPath = "specs/\(id)/task.yaml"
        let data = try? repository.file(at: taskPath, in: head)
        let spec = data.flatMap { TaskSpec.parse($0, path: taskPath).spec }
        let merged = try repository.isAncestor(head, of: trunk.commit)
        let record = TaskRecord(
            id: id,
            state: merged ? .merged : .cancelled,
            app: spec?.app ?? previous?.app ?? "",
            title: spec?.title ?? previous?.title ?? id,
            specCommit: try repository.mergeBase(head, trunk.commit)?.hex ?? head.hex,
            specBlob: data.map { Repository.hashBlob($0).hex } ?? "",
            branchHead: head.hex,
            attempt: try Self.attemptsUsed(on: head, taskID: id, in: repository, trunk: trunk.commit),
            maxAttempts: spec?.retryPolicy.maxAttempts ?? previous?.maxAttempts ?? 0,
            reason: merged ? "merged into \(trunk.branch): \(head.short) is on it" : "spec deleted from \(trunk.branch)",
            createdAt: previous?.createdAt ?? now,
            updatedAt: now
        )
        return DerivedTask(record: record, evidence: "\(taskPath) is not on \(trunk.branch); task/\(id) is at \(head.short)", job: nil)
    }

    /// The head's `Attempt:` trailer when it is this task's commit; otherwise how many of the
    /// branch's commits since it left the trunk carry `Task: <id>`.
    static func attemptsUsed(on head: ObjectID, taskID: String, in repository: Repository, trunk: ObjectID) throws -> Int {
        let tip = try repository.commit(head)
        if CommitTrailers.value("Task", in: tip.message) == taskID, let attempt = CommitTrailers.value("Attempt", in: tip.message).flatMap(Int.init) {
            return attempt
        }
        var count = 0
        for commit in try repository.log(from: head, limit: 1000) {
            if try repository.isAncestor(commit.id, of: trunk) { break }
            if CommitTrailers.value("Task", in: commit.message) == taskID { count += 1 }
        }
        return count
    }

    /// `Rejected-by: NAME at TIME: REASON` → `rejected by NAME: REASON`, as `Reviews.reject` says it.
    static func rejectionReason(_ line: String) -> String {
        let rest = line.dropFirst("Rejected-by:".count).trimmingCharacters(in: .whitespaces)
        guard let at = rest.range(of: " at ") else { return "rejected by \(rest)" }
        let name = rest[..<at.lowerBound]
        let afterTime = rest[at.upperBound...].range(of: ": ").map { String(rest[$0.upperBound...]) } ?? ""
        return "rejected by \(name)" + (afterTime.isEmpty ? "" : ": \(afterTime)")
    }
}
