import Agents
import ControlRepository
import Deploy
import Environments
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
    /// Where a deploy says what it is doing (uploading, switching, verifying each host).
    public let progress: @Sendable (String) -> Void

    public init(
        repositoryPath: String,
        store: Store,
        state: StateDirectory,
        worker: String,
        runner: ProcessRunner = ProcessRunner(),
        connections: HostConnections,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.repositoryPath = repositoryPath
        self.connections = connections
        self.store = store
        self.state = state
        self.worker = worker
        self.runner = runner
        self.progress = progress
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
                try? deploymentAgent.gaveUp(environment: environment, commit: commit, error: "\(error)")
            }
            try store.appendEvent(
                taskID: nil,
                kind: failed.state == .dead ? .deployGaveUp : .deployError,
                message: "\(job.key.taskID) at \(job.key.inputCommit.prefix(12)): \(error)"
                    + (failed.state == .dead
                        ? " — gave up after \(failed.attempts) attempts; a person's deploy (or a retry of the task) tries again"
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
}
