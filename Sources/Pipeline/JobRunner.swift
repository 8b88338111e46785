import Agents
import ControlRepository
import Deploy
import Foundation
import Git
import Hosts
import Processes
import Specs
import Store

/// Runs one leased job to its end and records the outcome: the task's next state and the next
/// job go into the store in the same transaction as the job's completion, so a controller killed
/// at any point either redoes the job (its lease expires or is reclaimed) or has moved on.
///
/// Every step is safe to run twice for the same key: the coding agent recognises its own commit
/// by its `Task:`/`Attempt:` trailers, test reports overwrite their note, merges check ancestry.
public struct JobRunner: Sendable {
    public let repositoryPath: String
    public let store: Store
    public let state: StateDirectory
    public let worker: String
    public let runner: ProcessRunner
    /// The transports to the hosts, kept open between deploys.
    public let connections: HostConnections

    public init(
        repositoryPath: String,
        store: Store,
        state: StateDirectory,
        worker: String,
        runner: ProcessRunner = ProcessRunner(),
        connections: HostConnections
    ) {
        self.repositoryPath = repositoryPath
        self.connections = connections
        self.store = store
        self.state = state
        self.worker = worker
        self.runner = runner
    }

    /// Runs `job` (leased by `worker`). Errors of the job itself are recorded, never thrown; what
    /// is thrown is a store failure, after which the lease simply expires and the job runs again.
    /// A job cancelled mid-way (the controller is stopping) is handed back to the queue without
    /// counting the lease as an attempt. git, the store and the hosts are used from the blocking
    /// pool, never from a cooperative thread.
    public func run(_ job: Job) async throws {
        do {
            switch job.key.step {
            case .coding: try await code(job)
            case .testing: try await test(job)
            case .merge: try await offload { try merge(job) }
            case .deploy: try await offload { try deploy(job) }
            case .monitor:
                try await offload { try store.complete(jobID: job.id, worker: worker) }
            }
        } catch let error where error is CancellationError || Task.isCancelled {
            try await offload { try store.handBack(jobID: job.id, worker: worker, reason: "the controller is stopping") }
        } catch let error as StoreError {
            throw error
        } catch {
            try await offload { try recordFailure(of: job, error: error) }
        }
    }

    /// A job that threw: retried with backoff; one that runs out of attempts fails its task (or, for a
    /// deploy, the tasks it was shipping) with the error as the reason.
    private func recordFailure(of job: Job, error: Error) throws {
        if job.key.step == .deploy {
            // A host unreachable, locked, or an upload cut: nothing switched; try again later.
            let environment = Reconciler.environment(ofDeploy: job.key)
            let failed = try store.fail(jobID: job.id, worker: worker, error: "\(error)", retryable: true)
            if failed.state == .dead, let commit = ObjectID(hex: job.key.inputCommit) {
                let agent = DeploymentAgent(repositoryPath: repositoryPath, store: store, connections: connections)
                try? agent.gaveUp(environment: environment, commit: commit, error: "\(error)")
            }
            try store.appendEvent(
                taskID: nil,
                kind: failed.state == .dead ? .deployGaveUp : .deployError,
                message: "\(job.key.taskID) at \(job.key.inputCommit.prefix(12)): \(error)"
                    + (failed.state == .dead
                        ? " — gave up after \(failed.attempts) attempts; run devsys deploy (or devsys task retry) to try again"
                        : " — nothing is marked bad; retried with backoff (attempt \(failed.attempts) of \(failed.maxAttempts))"),
                data: ["env": environment, "commit": job.key.inputCommit]
            )
            return
        }
        // git or the file system failed under the job: retry it with backoff, and let the task say why.
        let failed = try store.fail(jobID: job.id, worker: worker, error: "\(error)", retryable: true)
        if failed.state == .dead {
            try store.transition(
                taskID: job.key.taskID,
                from: [.queued, .coding, .testing, .review],
                to: .failed,
                reason: "\(job.key.step.rawValue) kept failing: \(error)"
            )
        }
    }

    // MARK: Coding

    /// Checks the task branch out, runs the coding agent, commits its change, and queues the tests.
    /// Stops early (completing the job) when the task is no longer waiting for code.
    private func code(_ job: Job) async throws {
        guard let attempt = try await offload({ try startCoding(job) }) else { return }
        let sandbox = attempt.request.sandbox
        let outcome: CodingOutcome
        do {
            outcome = try await CodingAgent(runner: runner).attempt(attempt.request)
        } catch {
            try? await offload { sandboxing.end(sandbox) }
            throw error
        }
        try await offload {
            sandboxing.end(sandbox)
            try recordCoding(outcome, task: attempt.task, attempt: attempt.request.attempt, job: job)
        }
    }

    var sandboxing: AgentSandboxing {
        AgentSandboxing(repositoryPath: repositoryPath, state: state, store: store, worker: worker)
    }

    /// How a step's sandbox began.
    private enum SandboxStart {
        /// Begun: a predecessor's ended, this one recorded with the lease.
        case sandboxed(AgentSandbox)
        /// `agents.sandbox: false`.
        case unsandboxed
        /// None can be made: the task failed with what is missing, the job completed.
        case refused

        var sandbox: AgentSandbox? {
            if case .sandboxed(let sandbox) = self { sandbox } else { nil }
        }
    }

    /// Begins the sandbox of a step. When this machine cannot make one, fails the task with what is
    /// missing and completes the job: no attempt would go better.
    private func beginSandbox(_ kind: AgentSandboxing.Kind, job: Job, task: TaskRecord, context: TaskContext) throws -> SandboxStart {
        do {
            guard let sandbox = try sandboxing.plan(kind, job: job, spec: context.spec, config: context.config) else { return .unsandboxed }
            try sandboxing.begin(sandbox, job: job)
            return .sandboxed(sandbox)
        } catch let error as SandboxUnavailable {
            try store.transaction { transaction in
                try transaction.transition(taskID: task.id, from: [.queued, .coding, .testing], to: .failed, reason: "\(error)")
                try transaction.complete(jobID: job.id, worker: worker)
            }
            return .refused
        }
    }

    /// One coding attempt about to run: the task as it was read, and what the agent gets.
    private struct CodingStart: Sendable {
        var task: TaskRecord
        var request: CodingRequest
    }

    /// Reads the task and its spec and moves it to `coding`; nil (the job completed) when the task
    /// no longer waits for code.
    private func startCoding(_ job: Job) throws -> CodingStart? {
        guard let task = try store.task(id: job.key.taskID), [.queued, .coding].contains(task.state) else {
            try store.complete(jobID: job.id, worker: worker)
            return nil
        }
        let context = try TaskContext.load(task: task, repositoryPath: repositoryPath)
        let start = try beginSandbox(.coding, job: job, task: task, context: context)
        if case .refused = start { return nil }
        let attempt = task.attempt + 1
        let branch = ControlRefs.taskBranch(task.id)
        let head = try context.repository.reference(named: branch) ?? context.trunkCommit
        _ = try store.transition(taskID: task.id, from: [.queued, .coding], to: .coding, reason: "attempt \(attempt) of \(task.maxAttempts)")

        let feedback = job.attempts > 1 && job.lastError != nil ? job.lastError : CodingPayload(decoding: job.payload).feedback
        let scratch = state.workFolder.appendingPathComponent("\(task.id)")
        let request = CodingRequest(
            repositoryPath: repositoryPath,
            taskID: task.id,
            spec: context.spec,
            head: head,
            attempt: attempt,
            feedback: feedback,
            agent: context.config.agents.coding,
            scratchFolder: scratch,
            environment: sandboxing.passedEnvironment(context.config.agents.coding.environment),
            sandbox: start.sandbox
        )
        return CodingStart(task: task, request: request)
    }

    /// Records what the coding agent did: a commit moves the task to testing, a failure sends it
    /// back to coding after the spec's backoff, or fails it once its attempts are used up.
    private func recordCoding(_ outcome: CodingOutcome, task: TaskRecord, attempt: Int, job: Job) throws {
        switch outcome {
        case .committed(let commit, let paths):
            try store.transaction { transaction in
                // Cancelled (or otherwise moved on) while the agent worked: the commit stays on the
                // branch, the task stays where it was put.
                guard try transaction.task(id: task.id)?.state == .coding else {
                    try transaction.complete(jobID: job.id, worker: worker)
                    return
                }
                var record = task
                record.branchHead = commit.hex
                record.attempt = attempt
                record.state = .coding
                record.reason = nil
                record.updatedAt = .now
                try transaction.upsertTask(record)
                try transaction.appendEvent(
                    taskID: task.id,
                    kind: .codingCommitted,
                    message: "attempt \(attempt): \(commit.short) changes \(paths.joined(separator: ", "))",
                    data: ["commit": commit.hex, "attempt": String(attempt)]
                )
                try transaction.transition(taskID: task.id, from: [.coding], to: .testing, reason: "testing attempt \(attempt) at \(commit.short)")
                try transaction.enqueue(
                    JobKey(taskID: task.id, step: .testing, inputCommit: commit.hex),
                    maxAttempts: Reconciler.crashAllowance + 1
                )
                try transaction.complete(jobID: job.id, worker: worker)
            }
        case .failed(let reason, let log):
            try store.transaction { transaction in
                try transaction.appendEvent(
                    taskID: task.id,
                    kind: .codingFailed,
                    message: "attempt \(attempt): \(reason)",
                    data: ["attempt": String(attempt), "log": String(log.suffix(4000))]
                )
                if attempt >= task.maxAttempts {
                    try transaction.transition(
                        taskID: task.id,
                        from: [.coding],
                        to: .failed,
                        reason: "attempt \(attempt) of \(task.maxAttempts) failed: \(reason)",
                        attempt: attempt
                    )
                    try transaction.complete(jobID: job.id, worker: worker)
                } else {
                    try transaction.transition(
                        taskID: task.id,
                        from: [.coding],
                        to: .coding,
                        reason: "attempt \(attempt) failed: \(reason)",
                        attempt: attempt
                    )
                    // The same job again, after the spec's backoff, with this reason as feedback.
                    _ = try transaction.fail(jobID: job.id, worker: worker, error: "attempt \(attempt) failed: \(reason)\n\n\(log)", retryable: true)
                }
            }
        }
    }

    // MARK: Testing

    /// Runs the app's tests and the spec's `run` checks on the branch head, stores the JUnit
    /// report (note + file), then moves the task to review (or merge) or back to coding.
    private func test(_ job: Job) async throws {
        guard let start = try await offload({ try startTesting(job) }) else { return }
        let sandbox = start.request.sandbox
        let report: TestReport
        do {
            report = try await TestingAgent(runner: runner).test(start.request)
        } catch {
            try? await offload { sandboxing.end(sandbox) }
            throw error
        }
        try await offload {
            sandboxing.end(sandbox)
            try recordTests(report, task: start.task, context: start.context, job: job)
        }
    }

    /// One test run about to start.
    private struct TestingStart: @unchecked Sendable {
        var task: TaskRecord
        var context: TaskContext
        var request: TestRequest
    }

    /// Reads the task and its spec; nil (the job completed) when the task no longer waits for
    /// tests of this commit.
    private func startTesting(_ job: Job) throws -> TestingStart? {
        guard let task = try store.task(id: job.key.taskID), task.state == .testing, task.branchHead == job.key.inputCommit,
            let commit = ObjectID(hex: job.key.inputCommit)
        else {
            try store.complete(jobID: job.id, worker: worker)
            return nil
        }
        let context = try TaskContext.load(task: task, repositoryPath: repositoryPath)
        let start = try beginSandbox(.testing, job: job, task: task, context: context)
        if case .refused = start { return nil }
        let request = TestRequest(
            repositoryPath: repositoryPath,
            taskID: task.id,
            commit: commit,
            spec: context.spec,
            testCommand: context.config.apps.first { $0.name == context.spec.app }?.test,
            scratchFolder: state.workFolder.appendingPathComponent(task.id),
            environment: sandboxing.passedEnvironment(context.config.agents.testing.environment),
            sandbox: start.sandbox
        )
        return TestingStart(task: task, context: context, request: request)
    }

    /// Stores the report (note + file), then moves the task to review (or merge) or back to coding.
    private func recordTests(_ report: TestReport, task: TaskRecord, context: TaskContext, job: Job) throws {
        let commit = report.commit
        try TestingAgent.storeReport(report, for: commit, in: context.repository, reportsFolder: state.reportsFolder(taskID: task.id))
        try store.transaction { transaction in
            try transaction.appendEvent(
                taskID: task.id,
                kind: report.passed ? .testsPassed : .testsFailed,
                message: "\(commit.short): \(report.summary)",
                data: ["commit": commit.hex]
            )
            if report.passed {
                try transaction.transition(taskID: task.id, from: [.testing], to: .review, reason: nil)
                if context.spec.review == .auto {
                    try transaction.enqueue(
                        JobKey(taskID: task.id, step: .merge, inputCommit: commit.hex),
                        maxAttempts: Reconciler.crashAllowance + 1
                    )
                }
            } else {
                try transaction.sendBackToCoding(
                    task,
                    from: .testing,
                    reason: "tests failed on \(commit.short): \(report.summary)",
                    feedback: Self.feedback(from: report),
                    head: commit
                )
            }
            try transaction.complete(jobID: job.id, worker: worker)
        }
    }

    /// What the coding agent reads after failing tests: the summary and each failing command's output.
    static func feedback(from report: TestReport) -> String {
        var text = "The tests failed: \(report.summary)\n"
        for command in report.commands where !command.passed {
            text += "\n## \(command.name) (\(command.command)) — \(command.outcome.termination)\n"
            text += command.outcome.stdout.lastText(maxBytes: 4000) + command.outcome.stderr.lastText(maxBytes: 4000)
        }
        return text + "\nThe full JUnit report is in refs/notes/devsys/tests on the tested commit.\n"
    }

    // MARK: Deploy

    /// Brings an environment to the commit its env ref names, unless the ref moved on since the
    /// job was queued (a newer job deploys that) or the hosts already serve it.
    private func deploy(_ job: Job) throws {
        let environment = Reconciler.environment(ofDeploy: job.key)
        let repository = try Repository.open(at: repositoryPath)
        let desired = try EnvironmentRefs(repository: repository, environment: environment).desired()
        let agent = DeploymentAgent(repositoryPath: repositoryPath, store: store, connections: connections)
        guard let commit = desired, commit.hex == job.key.inputCommit, try agent.liveCommit(environment) != commit else {
            return try store.complete(jobID: job.id, worker: worker)
        }
        let actor = Principal.controller
        let report = try store.audited(actor, "deploy", target: "env/\(environment)@\(commit.short)", outcome: EnvironmentActions.outcome) { _ in
            try agent.deploy(
                environment: environment,
                commit: commit,
                actor: actor.name,
                reason: "\(ControlRefs.environment(environment)) moved to \(commit.short)"
            )
        }
        try store.complete(jobID: job.id, worker: worker, result: try? JSONEncoder().encode(report))
    }

    // MARK: Merge

    /// `review: auto`: merges the tested head into the trunk.
    private func merge(_ job: Job) throws {
        guard let task = try store.task(id: job.key.taskID), task.state == .review, task.branchHead == job.key.inputCommit else {
            return try store.complete(jobID: job.id, worker: worker)
        }
        let merger = TaskMerger(repositoryPath: repositoryPath, store: store)
        let actor = Principal.controller
        let target = "task/\(task.id)@\(job.key.inputCommit.prefix(12))"
        _ = try store.audited(actor, "pr.merge (review: auto)", target: target, outcome: PullRequestActions.outcome) { _ in
            try merger.merge(task, actor: "\(actor.name) (review: auto)") { transaction in
                try transaction.complete(jobID: job.id, worker: worker)
            }
        }
    }
}

/// What a job needs to know about its task, read from the trunk as it is now.
struct TaskContext {
    let repository: Repository
    let trunkCommit: ObjectID
    let spec: TaskSpec
    let config: ProjectConfig

    static func load(task: TaskRecord, repositoryPath: String) throws -> TaskContext {
        let repository = try Repository.open(at: repositoryPath)
        let control = ControlRepository(repository)
        let trunk = try control.trunkCommit()
        let (config, snapshots) = try control.specs(named: [task.id], at: trunk.commit)
        guard let config else { throw PipelineError.invalidConfig(trunk.commit.short) }
        guard let snapshot = snapshots.first, snapshot.isValid, let spec = snapshot.spec else {
            throw PipelineError.invalidSpec(task.id, trunk.commit.short)
        }
        return TaskContext(repository: repository, trunkCommit: trunk.commit, spec: spec, config: config)
    }
}

public enum PipelineError: Error, CustomStringConvertible {
    case invalidConfig(String)
    case invalidSpec(String, String)
    case unknownTask(String)
    case wrongState(String, TaskState, expected: String)
    case noBranch(String)
    case notApproved(String)
    case branchMoved(String)
    case trunkKeepsMoving(String)
    case badCommit(String, String, String)

    public var description: String {
        switch self {
        case .invalidConfig(let commit):
            "devsys.yaml on the trunk (\(commit)) is missing or invalid; run 'devsys validate' and fix it"
        case .invalidSpec(let id, let commit):
            "the spec of \(id) is missing or invalid on the trunk (\(commit)); run 'devsys validate specs/\(id)'"
        case .unknownTask(let id):
            "no task \(id); 'devsys tasks' lists them"
        case .wrongState(let id, let state, let expected):
            "task \(id) is \(state.rawValue); this needs it \(expected)"
        case .noBranch(let id):
            "task \(id) has no branch task/\(id) yet"
        case .notApproved(let id):
            "task \(id) needs an approval first: devsys pr approve \(id)"
        case .badCommit(let environment, let commit, let why):
            "\(commit) is marked bad in \(environment) (\(why)); deploy it anyway with: devsys deploy \(environment) --rev \(commit) --force"
        case .branchMoved(let id):
            "task/\(id) moved since it was tested; it will be tested again before it can merge"
        case .trunkKeepsMoving(let id):
            "the trunk kept moving while merging task/\(id); try again"
        }
    }
}
