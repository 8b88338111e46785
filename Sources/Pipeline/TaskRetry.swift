import Agents
import ControlRepository
import Environments
import Foundation
import Git
import Specs
import Store

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Restarts a `failed` or `rejected` task (`devsys task retry`) from the step that failed
/// (DESIGN §4):
///
/// - coding (attempts used up, a rejection, an invalid spec now fixed): back to `queued` with a
///   fresh round of `max_attempts` and a coding job from the branch head, with the reason it ended
///   as the agent's feedback;
/// - testing (the test job gave up): the branch head is tested again;
/// - merge (the merge job gave up): back to review, merged again with `review: auto`;
/// - deploy (the deploy failed or gave up): back to `merged` and deployed again — the env ref moves
///   to the trunk when it no longer holds the task's change (clearing a bad mark the failed deploy
///   left), and the environment's deploy job runs again. Nothing is coded again.
///
/// Attempt numbers go on from the last one rather than from 1: the coding agent recognises a
/// commit it already made by its `Attempt:` trailer, so a reused number would skip the work.
public struct TaskRetry: Sendable {
    public let repositoryPath: String
    public let store: Store

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// The step a retry starts from.
    public enum Step: String, Sendable {
        case coding, testing, merge, deploy
    }

    /// - Returns: The task as it is now, the step it starts from again and the job that will run it.
    /// - Throws: `PipelineError.unknownTask`, `.wrongState` (not failed or rejected),
    ///   `.invalidSpec` (the spec is gone or broken on the trunk). A redeploy of a commit marked
    ///   bad clears the mark, as `devsys deploy --force` does.
    @discardableResult
    public func retry(taskID: String, actor: String, now: Date = .now) throws -> (task: TaskRecord, step: Step, job: Job) {
        guard let task = try store.task(id: taskID) else { throw PipelineError.unknownTask(taskID) }
        guard [.failed, .rejected].contains(task.state) else { throw PipelineError.wrongState(taskID, task.state, expected: "failed or rejected") }
        let context = try TaskContext.load(task: task, repositoryPath: repositoryPath)
        let head = try context.repository.reference(named: ControlRefs.taskBranch(taskID))
        var step = task.state == .rejected ? .coding : try failedStep(of: task)
        // The coding job died after the agent's commit landed but before the store recorded it (a
        // controller killed at that moment, every time): that attempt is done; test it.
        if step == .coding, task.state == .failed, let head,
            try Reindexer.attemptsUsed(on: head, taskID: taskID, in: context.repository, trunk: context.trunkCommit) > task.attempt
        {
            step = .testing
        }
        switch (step, head, context.spec.deploy?.env) {
        case (.testing, let head?, _), (.merge, let head?, _):
            return try rerun(step, of: task, head: head, context: context, actor: actor, now: now)
        case (.deploy, _, let environment?):
            return try redeploy(task, to: environment, context: context, actor: actor, now: now)
        default:
            return try recode(task, head: head, context: context, actor: actor, now: now)
        }
    }

    /// The step a failed task failed at (`Store.failedStep(of:)`).
    func failedStep(of task: TaskRecord) throws -> Step {
        switch try store.failedStep(of: task) {
        case .deploy: .deploy
        case .testing: .testing
        case .merge: .merge
        case .coding, .monitor: .coding
        }
    }

    /// A test or merge job that gave up: the task goes back to the state that job serves
    /// (`testing`, `review`) and the job for the branch head runs again.
    private func rerun(
        _ step: Step,
        of task: TaskRecord,
        head: ObjectID,
        context: TaskContext,
        actor: String,
        now: Date
    ) throws -> (task: TaskRecord, step: Step, job: Job) {
        let (state, jobStep): (TaskState, JobStep) = step == .merge ? (.review, .merge) : (.testing, .testing)
        let attempt = max(task.attempt, try Reindexer.attemptsUsed(on: head, taskID: task.id, in: context.repository, trunk: context.trunkCommit))
        return try store.transaction { transaction in
            try moveBack(task, to: state, branchHead: head, attempt: attempt, actor: actor, transaction: transaction, now: now)
            let job = try transaction.restart(
                JobKey(taskID: task.id, step: jobStep, inputCommit: head.hex),
                maxAttempts: Reconciler.crashAllowance + 1,
                now: now
            )
            return (try transaction.task(id: task.id) ?? task, step, job)
        }
    }

    /// A deploy that failed or gave up: the task goes back to `merged`, the env ref is moved to the
    /// trunk if it no longer holds the task's change, and the environment's deploy job runs again.
    private func redeploy(
        _ task: TaskRecord,
        to environment: String,
        context: TaskContext,
        actor: String,
        now: Date
    ) throws -> (task: TaskRecord, step: Step, job: Job) {
        let refs = EnvironmentRefs(repository: context.repository, environment: environment)
        var desired = try refs.desired()
        let change = task.branchHead.flatMap(ObjectID.init(hex:))
        let holdsChange = try desired.map { desired in try change.map { try context.repository.isAncestor($0, of: desired) } ?? true } ?? false
        if !holdsChange {
            let trunk = context.trunkCommit
            try refs.move(to: trunk, expecting: desired, message: "devsys: task retry of \(task.id) by \(actor)")
            desired = trunk
        }
        // A person retrying the deploy asks for this commit again: a bad mark its failed deploy
        // left would refuse it (as `devsys deploy --force` does, the retry clears it).
        if let commit = desired, try refs.badReason(commit) != nil {
            try refs.clearBad(commit, by: actor)
        }
        guard let commit = desired else { throw PipelineError.noBranch(task.id) }
        return try store.transaction { transaction in
            try moveBack(task, to: .merged, branchHead: nil, actor: actor, transaction: transaction, now: now)
            // Whatever the hosts were brought to, this commit is deployed again.
            try transaction.setValue(nil, forKey: DeploymentAgent.liveKey(environment), now: now)
            let job = try transaction.restart(
                Reconciler.deployKey(environment, commit),
                maxAttempts: Reconciler.deployAttempts,
                backoff: Reconciler.deployBackoff,
                now: now
            )
            return (try transaction.task(id: task.id) ?? task, .deploy, job)
        }
    }

    private func moveBack(
        _ task: TaskRecord,
        to state: TaskState,
        branchHead: ObjectID?,
        attempt: Int? = nil,
        actor: String,
        transaction: Store.Transaction,
        now: Date
    ) throws {
        guard try transaction.transition(taskID: task.id, from: [task.state], to: state, reason: "retried by \(actor)", attempt: attempt, at: now)
        else {
            throw PipelineError.wrongState(task.id, task.state, expected: "failed or rejected (it moved meanwhile; try again)")
        }
        if let branchHead {
            var record = try transaction.task(id: task.id) ?? task
            record.branchHead = branchHead.hex
            record.updatedAt = now
            try transaction.upsertTask(record)
        }
    }

    private func recode(
        _ task: TaskRecord,
        head: ObjectID?,
        context: TaskContext,
        actor: String,
        now: Date
    ) throws -> (task: TaskRecord, step: Step, job: Job) {
        let taskID = task.id
        let lastAttempt = try head.map { try Reindexer.attemptsUsed(on: $0, taskID: taskID, in: context.repository, trunk: context.trunkCommit) } ?? 0
        let attempt = max(task.attempt, lastAttempt)
        let feedback = "A previous round of this task ended \(task.state.rawValue)" + (task.reason.map { ": \($0)" } ?? ".") + "\n"

        return try store.transaction { transaction in
            guard
                try transaction.transition(taskID: taskID, from: [task.state], to: .queued, reason: "retried by \(actor)", attempt: attempt, at: now)
            else {
                throw PipelineError.wrongState(taskID, task.state, expected: "failed or rejected (it moved meanwhile; try again)")
            }
            var record = task
            record.state = .queued
            record.attempt = attempt
            record.maxAttempts = attempt + context.spec.retryPolicy.maxAttempts
            record.branchHead = head?.hex ?? task.branchHead
            record.reason = "retried by \(actor)"
            record.updatedAt = now
            try transaction.upsertTask(record)
            let job = try transaction.restart(
                JobKey(taskID: taskID, step: .coding, inputCommit: (head ?? context.trunkCommit).hex),
                payload: CodingPayload(feedback: feedback).encoded(),
                maxAttempts: record.maxAttempts + Reconciler.crashAllowance,
                backoff: context.spec.retryPolicy.backoff,
                now: now
            )
            return (record, .coding, job)
        }
    }
}
