import ControlRepository
import Foundation
import Git
import Store

/// How a merge of a task branch ended.
public enum MergeOutcome: Sendable, Equatable {
    /// The trunk now contains the branch: the merge commit (or the branch head, when it already did).
    case merged(ObjectID)
    /// The branch conflicts with the trunk in these paths; the task went back to coding (or failed).
    case conflicts([String])

    /// What the audit log says of it: `ok: merged as <commit>`, or `failed: conflicts in …`.
    public var auditOutcome: String {
        switch self {
        case .merged(let commit): "ok: merged as \(commit.short)"
        case .conflicts(let paths): "failed: conflicts in \(paths.joined(separator: ", "))"
        }
    }
}

/// Merges a task's tested branch into the trunk with a merge commit, moving the trunk with
/// compare-and-swap (a concurrent push is retried on, never overwritten). Used by `devsys pr
/// merge` and by `review: auto`.
public struct TaskMerger: Sendable {
    public let repositoryPath: String
    public let store: Store
    static let attemptsOnLostRace = 5

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// - Parameter also: more changes to commit in the same store transaction (completing a job).
    /// - Throws: `PipelineError` when the task is not in review or its branch moved since it was
    ///   tested; `GitError` when the trunk keeps moving under us.
    @discardableResult
    public func merge(_ task: TaskRecord, actor: String, also: (Store.Transaction) throws -> Void = { _ in }) throws -> MergeOutcome {
        guard task.state == .review else { throw PipelineError.wrongState(task.id, task.state, expected: "in review") }
        guard let head = task.branchHead.flatMap(ObjectID.init(hex:)) else { throw PipelineError.noBranch(task.id) }
        let repository = try Repository.open(at: repositoryPath)
        let branch = ControlRefs.taskBranch(task.id)
        guard try repository.reference(named: branch) == head else { throw PipelineError.branchMoved(task.id) }
        let control = ControlRepository(repository)

        for attempt in 1...Self.attemptsOnLostRace {
            let trunk = try control.trunkCommit()
            let trunkRef = ControlRefs.branch(trunk.branch)
            if try repository.isAncestor(head, of: trunk.commit) {
                try record(task, merged: head, into: trunk.branch, actor: actor, also: also)
                return .merged(head)
            }
            let message = "Merge task/\(task.id): \(task.title)\n\nTask: \(task.id)\nMerged-by: \(actor)\n"
            switch try repository.merge(trunk.commit, head, message: message, author: Self.signature(actor)) {
            case .conflicts(let paths):
                try store.transaction { transaction in
                    try transaction.sendBackToCoding(
                        task,
                        from: .review,
                        reason: "merge conflict with \(trunk.branch) in \(paths.joined(separator: ", "))",
                        feedback: "Merging task/\(task.id) into \(trunk.branch) (\(trunk.commit.short)) conflicts in:\n"
                            + paths.map { "- \($0)\n" }.joined() + "Rebase your change on \(trunk.branch) and resolve them.\n",
                        head: head
                    )
                    try also(transaction)
                }
                return .conflicts(paths)
            case .merged(let commit):
                do {
                    try repository.updateReference(trunkRef, to: commit, expecting: trunk.commit, message: "devsys: merge task/\(task.id)")
                } catch let error as GitError where error.isLostRace && attempt < Self.attemptsOnLostRace {
                    continue  // someone pushed to the trunk meanwhile: merge again onto their commit
                }
                try record(task, merged: commit, into: trunk.branch, actor: actor, also: also)
                return .merged(commit)
            }
        }
        throw PipelineError.trunkKeepsMoving(task.id)
    }

    private func record(
        _ task: TaskRecord,
        merged commit: ObjectID,
        into trunk: String,
        actor: String,
        also: (Store.Transaction) throws -> Void
    ) throws {
        try store.transaction { transaction in
            try transaction.transition(taskID: task.id, from: [.review], to: .merged, reason: "merged into \(trunk) as \(commit.short) by \(actor)")
            try also(transaction)
        }
    }

    static func signature(_ actor: String) -> Signature {
        Signature(actor: actor)
    }
}
