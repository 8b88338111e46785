import ControlRepository
import Foundation
import Git
import Pipeline
import Specs
import Store

/// What a reviewer does with a task branch — look at it, approve, reject, merge. Each action
/// needs `developer` or higher. Verdicts are notes on the reviewed head (`Reviews`).
extension ControlPlane {
    public static let reviewRole = Principal.Role.developer
    /// Files larger than this are named in the PR view, not diffed.
    public static let maxDiffedFileSize = 1024 * 1024

    /// The tasks waiting for review, as pull requests: head, test summary, approval.
    public func pullRequests(by actor: Principal) async throws -> [PullRequestSummary] {
        try await read(actor, "pulls") { [self] in
            let repository = try repository()
            var rows: [PullRequestSummary] = []
            for task in try store.tasks(states: [.review]) {
                let head = task.branchHead.flatMap(ObjectID.init(hex:))
                let report = head.flatMap {
                    try? StoredTestReport.latest(for: $0, in: repository, reportsFolder: state.reportsFolder(taskID: task.id))
                }
                rows.append(
                    PullRequestSummary(
                        id: task.id,
                        title: task.title,
                        branch: "task/\(task.id)",
                        head: task.branchHead,
                        tests: report?.summary,
                        passed: report?.passed,
                        approved: try head.map { try reviews.isApproved($0) } ?? false
                    )
                )
            }
            return rows
        }
    }

    /// The pull request of a task: its branch against the trunk (files and a unified diff made by
    /// libgit2, like `git diff <trunk>...task/<id>`), its latest test report and the verdicts on
    /// its head. Throws `PipelineError.unknownTask`, `.noBranch`.
    public func pullRequest(taskID: String, contextLines: Int = 3, by actor: Principal) async throws -> PullRequestView {
        try await read(actor, "pulls/\(taskID)") { [self] in try pullRequestView(taskID: taskID, contextLines: contextLines) }
    }

    private func pullRequestView(taskID: String, contextLines: Int) throws -> PullRequestView {
        let task = try knownTask(taskID)
        let repository = try repository()
        let control = ControlRepository(repository)
        guard let head = try repository.reference(named: ControlRefs.taskBranch(taskID)) ?? task.branchHead.flatMap(ObjectID.init(hex:)) else {
            throw PipelineError.noBranch(taskID)
        }
        let trunk = try control.trunkCommit()
        let base = try repository.mergeBase(trunk.commit, head)
        let report = try? StoredTestReport.latest(for: head, in: repository, reportsFolder: state.reportsFolder(taskID: taskID))
        return PullRequestView(
            task: task,
            trunk: trunk.branch,
            base: base,
            head: head,
            files: try repository.patches(from: base, to: head, contextLines: contextLines, maxFileSize: Self.maxDiffedFileSize),
            tests: report,
            verdicts: try reviews.verdicts(on: head)
        )
    }

    /// Approves the task's tested head: `Approved-by: <actor> at <time>` on its note. An approval
    /// is of that commit only; a new head needs a new one.
    /// - Returns: The approved head.
    /// - Throws: `PipelineError` (unknown task, not in review, the branch moved since it was
    ///   tested), `ActionRefusal.roleTooLow`.
    @discardableResult
    public func approve(taskID: String, by actor: Principal, at date: Date = .now) async throws -> ObjectID {
        try await act(actor, "pr.approve", target: "task/\(taskID)") { [self] target in
            try actor.require(Self.reviewRole, to: "approve task/\(taskID)")
            let task = try knownTask(taskID)
            let head = try reviewedHead(task)
            target = "task/\(taskID)@\(head.short)"
            // An approval of a head the branch has left would approve what nobody will merge.
            guard try repository().reference(named: ControlRefs.taskBranch(taskID)) == head else {
                throw PipelineError.branchMoved(taskID)
            }
            try reviews.approve(task, reviewer: actor.name, at: date)
            return head
        }
    }

    /// Rejects the task's head with `reason`; the task ends `rejected`.
    /// - Returns: The rejected head.
    /// - Throws: `PipelineError` (unknown task, not in review), `ActionRefusal.roleTooLow`.
    @discardableResult
    public func reject(taskID: String, reason: String, by actor: Principal, at date: Date = .now) async throws -> ObjectID {
        try await act(actor, "pr.reject", target: "task/\(taskID)") { [self] target in
            try actor.require(Self.reviewRole, to: "reject task/\(taskID)")
            let task = try knownTask(taskID)
            let head = try reviewedHead(task)
            target = "task/\(taskID)@\(head.short)"
            try reviews.reject(task, reviewer: actor.name, reason: reason, at: date)
            return head
        }
    }

    /// Merges the task branch into the trunk with a merge commit (`TaskMerger`). A spec with
    /// `review: required` (or one that cannot be read on the trunk) needs an approval of the
    /// branch's current head: an approval of an earlier head does not count.
    ///
    /// - Returns: `.merged`, or `.conflicts` (nothing merged; the task went back to coding), which
    ///   the audit row records as `failed: conflicts in …`.
    /// - Throws: `PipelineError` (unknown task, not in review, no approval, the branch moved
    ///   since it was tested), `ActionRefusal.roleTooLow`.
    @discardableResult
    public func merge(taskID: String, by actor: Principal) async throws -> MergeOutcome {
        try await act(actor, "pr.merge", target: "task/\(taskID)", outcome: \.auditOutcome) { [self] target in
            try actor.require(Self.reviewRole, to: "merge task/\(taskID)")
            let task = try knownTask(taskID)
            guard task.state == .review else { throw PipelineError.wrongState(taskID, task.state, expected: "in review") }
            let head = try reviewedHead(task)
            target = "task/\(taskID)@\(head.short)"
            let repository = try repository()
            // The approval must be of the head that merges: the branch as git has it now, which
            // must also be the head that was tested.
            guard try repository.reference(named: ControlRefs.taskBranch(taskID)) == head else { throw PipelineError.branchMoved(taskID) }
            if try reviewPolicy(of: taskID, in: ControlRepository(repository)) == .required, try !reviews.isApproved(head) {
                throw PipelineError.notApproved(taskID)
            }
            return try TaskMerger(repositoryPath: repositoryPath, store: store).merge(task, actor: actor.name)
        }
    }

    private func knownTask(_ id: String) throws -> TaskRecord {
        guard let task = try store.task(id: id) else { throw PipelineError.unknownTask(id) }
        return task
    }

    private func reviewedHead(_ task: TaskRecord) throws -> ObjectID {
        guard let head = task.branchHead.flatMap(ObjectID.init(hex:)) else { throw PipelineError.noBranch(task.id) }
        return head
    }

    /// The spec's `review:` on the trunk; `required` when the spec cannot be read.
    private func reviewPolicy(of id: String, in control: ControlRepository) throws -> TaskSpec.Review {
        let trunk = try control.trunkCommit()
        return try control.specs(named: [id], at: trunk.commit).specs.first?.spec?.review ?? .required
    }
}
