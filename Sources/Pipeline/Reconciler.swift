import ControlRepository
import Foundation
import Git
import Specs
import Store

/// What one reconcile pass did.
public struct ReconcileSummary: Sendable, Equatable {
    public var trunkCommit: String?
    public var started: [String] = []
    public var updated: [String] = []
    public var cancelled: [String] = []
    public var invalid: [String] = []
    public var merged: [String] = []
    /// Environments whose env ref was moved to the trunk (auto_deploy).
    public var promoted: [String] = []
    /// Environments a deploy job was queued for (their env ref differs from what they serve).
    public var deploys: [String] = []
    /// Tasks failed because their job gave up (``DeadJobs``).
    public var failed: [String] = []

    public var changedAnything: Bool {
        !(started.isEmpty && updated.isEmpty && cancelled.isEmpty && invalid.isEmpty && merged.isEmpty && promoted.isEmpty && deploys.isEmpty
            && failed.isEmpty)
    }
}

/// Brings the store in line with git: tasks for the specs on the trunk, and tasks whose branch was
/// merged with plain git. Only what changed since the last reconciled trunk commit is read, so an
/// idle pass costs one ref read and one store read.
///
/// Each step below records what it did in the summary and in task events; the position
/// (`reconciled.trunk`) moves last, with compare-and-swap, so a pass killed half-way is redone.
public struct Reconciler: Sendable {
    static let positionKey = "reconciled.trunk"

    public let repositoryPath: String
    public let store: Store

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// One pass. Throws what git or the store throw; nothing is half-applied (each task's change is
    /// one store transaction, and the position moves only after all of them).
    @discardableResult
    public func reconcile(now: Date = .now) throws -> ReconcileSummary {
        let control = try ControlRepository(Repository.open(at: repositoryPath))
        let trunk = try control.trunkCommit()
        let previous = try store.value(forKey: Self.positionKey)
        var summary = ReconcileSummary(trunkCommit: trunk.commit.hex)
        try followTaskBranches(in: control.repository, into: &summary, now: now)
        if previous != trunk.commit.hex {
            try reconcileTrunk(control, trunk: trunk, previous: previous, into: &summary, now: now)
        }
        try requestDeploys(in: control.repository, into: &summary, now: now)
        return summary
    }

    /// The trunk moved: the spec folders that changed, merges made with git, auto-deploys.
    private func reconcileTrunk(
        _ control: ControlRepository,
        trunk: (branch: String, commit: ObjectID),
        previous: String?,
        into summary: inout ReconcileSummary,
        now: Date
    ) throws {
        let old = previous.flatMap(ObjectID.init(hex:)).flatMap { (try? control.repository.commit($0)) != nil ? $0 : nil }
        let changes = try control.specChanges(from: old, to: trunk.commit)
        let folders: Set<String>? = changes.configChanged ? nil : changes.folders
        let (_, snapshots) = try control.specs(named: folders, at: trunk.commit)
        for snapshot in snapshots {
            try reconcileSpec(snapshot, trunk: trunk, into: &summary, now: now)
        }
        try recognizeMerges(in: control, trunk: trunk.commit, into: &summary, now: now)
        try advanceEnvironments(in: control, trunk: trunk.commit, into: &summary, now: now)
        _ = try store.setValue(trunk.commit.hex, forKey: Self.positionKey, expecting: previous, now: now)
    }

    /// Starts, updates, fails or cancels the task of one spec folder.
    private func reconcileSpec(
        _ snapshot: SpecSnapshot,
        trunk: (branch: String, commit: ObjectID),
        into summary: inout ReconcileSummary,
        now: Date
    ) throws {
        let existing = try store.task(id: snapshot.id)
        guard let taskFile = snapshot.taskFile else {
            // The folder (or its task.yaml) is gone: the task is cancelled unless it already ended.
            guard let existing, !existing.state.isSettled else { return }
            if try store.transition(
                taskID: snapshot.id,
                from: [existing.state],
                to: .cancelled,
                reason: "spec deleted from \(trunk.branch) in \(trunk.commit.short)",
                at: now
            ) {
                summary.cancelled.append(snapshot.id)
            }
            return
        }
        guard snapshot.isValid, let spec = snapshot.spec else {
            try recordInvalidSpec(snapshot, existing: existing, trunk: trunk, now: now)
            summary.invalid.append(snapshot.id)
            return
        }
        if let existing, existing.specBlob == taskFile.hex { return }
        let restart = existing.map { [.failed, .cancelled, .rejected].contains($0.state) } ?? true
        try store.transaction { transaction in
            var record =
                existing
                ?? TaskRecord(
                    id: spec.id,
                    state: .queued,
                    app: spec.app,
                    title: spec.title,
                    specCommit: trunk.commit.hex,
                    specBlob: taskFile.hex,
                    branchHead: nil,
                    attempt: 0,
                    maxAttempts: spec.retryPolicy.maxAttempts,
                    reason: nil,
                    createdAt: now,
                    updatedAt: now
                )
            record.app = spec.app
            record.title = spec.title
            record.specCommit = trunk.commit.hex
            record.specBlob = taskFile.hex
            record.updatedAt = now
            if restart {
                // Attempts keep counting across restarts: the branch's commits carry their
                // numbers in `Attempt:` trailers, and a number used twice would be taken for a
                // replay of the old attempt.
                record.maxAttempts = record.attempt + spec.retryPolicy.maxAttempts
                record.reason = nil
            }
            try transaction.upsertTask(record)
            if restart, existing != nil {
                try transaction.transition(
                    taskID: spec.id,
                    from: [record.state],
                    to: .queued,
                    reason: "spec changed in \(trunk.commit.short)",
                    at: now
                )
            } else if existing != nil {
                try transaction.appendEvent(taskID: spec.id, kind: .specUpdated, message: "spec changed in \(trunk.commit.short)", at: now)
            }
            if restart {
                try transaction.enqueue(
                    JobKey(taskID: spec.id, step: .coding, inputCommit: trunk.commit.hex),
                    payload: CodingPayload(feedback: nil).encoded(),
                    maxAttempts: record.maxAttempts + Self.crashAllowance,
                    backoff: spec.retryPolicy.backoff,
                    now: now
                )
            }
        }
        if existing == nil { summary.started.append(spec.id) } else { summary.updated.append(spec.id) }
    }

    /// Extra leases a job gets beyond the spec's attempts, for controllers killed mid-job.
    public static let crashAllowance = 3

    /// A spec that does not validate: its task fails with the first problem as the reason (all of
    /// them go to the task's events), until a commit fixes it.
    private func recordInvalidSpec(_ snapshot: SpecSnapshot, existing: TaskRecord?, trunk: (branch: String, commit: ObjectID), now: Date) throws {
        let problems = snapshot.diagnostics.filter { $0.severity == .error }
        let reason = "spec is invalid at \(trunk.commit.short): " + (problems.first.map(\.description) ?? "task.yaml does not parse")
        try store.transaction { transaction in
            if let existing {
                guard !existing.state.isSettled || existing.state == .failed else { return }
                if existing.state != .failed {
                    try transaction.transition(taskID: existing.id, from: [existing.state], to: .failed, reason: reason, at: now)
                }
            } else {
                try transaction.upsertTask(
                    TaskRecord(
                        id: snapshot.id,
                        state: .failed,
                        app: snapshot.spec?.app ?? "",
                        title: snapshot.spec?.title ?? snapshot.id,
                        specCommit: trunk.commit.hex,
                        specBlob: snapshot.taskFile?.hex ?? "",
                        branchHead: nil,
                        attempt: 0,
                        maxAttempts: 0,
                        reason: reason,
                        createdAt: now,
                        updatedAt: now
                    )
                )
            }
            try transaction.appendEvent(
                taskID: snapshot.id,
                kind: .specInvalid,
                message: problems.map(\.description).joined(separator: "\n"),
                at: now
            )
        }
    }

    /// A task branch moved by someone else (a force push, a reviewer's fix-up commit) while its
    /// task was being tested or reviewed: the new head is what counts, and it is tested again
    /// before anyone can merge it. A deleted branch sends the task back to coding from the trunk.
    private func followTaskBranches(in repository: Repository, into summary: inout ReconcileSummary, now: Date) throws {
        for task in try store.tasks(states: [.testing, .review]) {
            let head = try repository.reference(named: ControlRefs.taskBranch(task.id))
            guard head?.hex != task.branchHead else { continue }
            try store.transaction { transaction in
                var record = task
                record.branchHead = head?.hex
                record.updatedAt = now
                try transaction.upsertTask(record)
                if let head {
                    try transaction.transition(
                        taskID: task.id,
                        from: [task.state],
                        to: .testing,
                        reason: "task/\(task.id) moved to \(head.short) outside devsys; testing it",
                        at: now
                    )
                    try transaction.enqueue(
                        JobKey(taskID: task.id, step: .testing, inputCommit: head.hex),
                        maxAttempts: Self.crashAllowance + 1,
                        now: now
                    )
                } else {
                    try transaction.transition(
                        taskID: task.id,
                        from: [task.state],
                        to: .queued,
                        reason: "task/\(task.id) was deleted outside devsys; coding again from the trunk",
                        at: now
                    )
                    try transaction.restart(
                        JobKey(taskID: task.id, step: .coding, inputCommit: try ControlRepository(repository).trunkCommit().commit.hex),
                        payload: CodingPayload(feedback: nil).encoded(),
                        maxAttempts: task.maxAttempts + Self.crashAllowance,
                        now: now
                    )
                }
            }
            summary.updated.append(task.id)
        }
    }

    /// Tasks in review whose branch head is now part of the trunk were merged with plain git.
    private func recognizeMerges(in control: ControlRepository, trunk: ObjectID, into summary: inout ReconcileSummary, now: Date) throws {
        for task in try store.tasks(states: [.review, .testing]) {
            guard let head = task.branchHead.flatMap(ObjectID.init(hex:)),
                try control.repository.isAncestor(head, of: trunk)
            else { continue }
            if try store.transition(
                taskID: task.id,
                from: [task.state],
                to: .merged,
                reason: "merged into the trunk with git (\(trunk.short))",
                at: now
            ) {
                summary.merged.append(task.id)
            }
        }
    }
}

extension TaskState {
    /// States a task leaves only when its spec changes.
    var isSettled: Bool {
        switch self {
        case .merged, .deploying, .deployed, .failed, .rejected, .cancelled: true
        case .queued, .coding, .testing, .review: false
        }
    }
}

extension TaskSpec.RetryPolicy {
    var backoff: RetryBackoff {
        RetryBackoff(base: TimeInterval(backoffSeconds), max: TimeInterval(max(maxBackoffSeconds, backoffSeconds)), jitter: 0.2)
    }
}
