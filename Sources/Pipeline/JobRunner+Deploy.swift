import ControlRepository
import Environments
import Foundation
import Git
import Specs
import Store

extension JobRunner {
    /// Brings an environment to a commit. A person's request (`DeployRequest`) deploys the commit
    /// it names, whatever the env ref says by now (a newer push is a job of its own, run next).
    /// The controller's own deploy brings the environment to what its env ref names, unless the
    /// ref moved on since the job was queued (a newer job deploys that) or the hosts already serve it.
    func deploy(_ job: Job) throws {
        let environment = Reconciler.environment(ofDeploy: job.key)
        if let request = DeployRequest(payload: job.payload) { return try deploy(job, requestedBy: request, to: environment) }
        let repository = try Repository.open(at: repositoryPath)
        let desired = try EnvironmentRefs(repository: repository, environment: environment).desired()
        guard let commit = desired, commit.hex == job.key.inputCommit, try deploymentAgent.liveCommit(environment) != commit else {
            return try store.complete(jobID: job.id, worker: worker)
        }
        let actor = Principal.controller
        let report = try store.audited(actor, "deploy", target: "env/\(environment)@\(commit.short)", outcome: \.auditOutcome) { _ in
            try deploymentAgent.deploy(
                environment: environment,
                commit: commit,
                actor: actor.name,
                reason: "\(ControlRefs.environment(environment)) moved to \(commit.short)",
                progress: progress
            )
        }
        try store.complete(jobID: job.id, worker: worker, result: DeployOutcome(report: report).encoded())
    }

    var deploymentAgent: DeploymentAgent { DeploymentAgent(repositoryPath: repositoryPath, store: store, connections: connections) }

    /// A person's deploy or rollback: deployed once, never retried — its outcome, report or
    /// error, is the job's result, and its audit row names the person. A deploy that stopped
    /// before anything lasting happened puts the env ref back where it was (a rollback leaves
    /// it on its target, for a running controller to deploy once the hosts answer).
    private func deploy(_ job: Job, requestedBy request: DeployRequest, to environment: String) throws {
        guard let commit = ObjectID(hex: job.key.inputCommit) else { return try store.complete(jobID: job.id, worker: worker) }
        let target = "env/\(environment)@" + (request.rollbackTo?.name ?? commit.short)
        let outcome: DeployOutcome
        do {
            outcome = DeployOutcome(
                report: try store.audited(request.actor, request.action, target: target, outcome: \.auditOutcome) { _ in
                    do {
                        return try deploymentAgent.deploy(
                            environment: environment,
                            commit: commit,
                            actor: request.actor.name,
                            reason: request.reason,
                            rollbackTo: request.rollbackTo,
                            progress: progress
                        )
                    } catch let error as StoreError {
                        throw error
                    } catch {
                        throw try interrupted(request, environment: environment, commit: commit, error: error)
                    }
                }
            )
        } catch let error as StoreError {
            throw error
        } catch {
            outcome = DeployOutcome(error: error)
        }
        try store.complete(jobID: job.id, worker: worker, result: outcome.encoded())
    }

    /// Puts a requested deploy that did not finish back: the env ref returns to where it was
    /// (removed, on a first deploy), the tasks wait merged again, and a `deploy.error` event says
    /// why. Returns the error to report.
    private func interrupted(_ request: DeployRequest, environment: String, commit: ObjectID, error: any Error) throws -> DeployInterrupted {
        let refs = try EnvironmentRefs(repository: Repository.open(at: repositoryPath), environment: environment)
        guard request.rollbackTo == nil else {
            return .nothingSwitched(ref: refs.ref, reason: "\(error)", restoredTo: nil, kept: commit.hex)
        }
        let message = "devsys: deploy of \(commit.short) did not finish"
        var restored: ObjectID?
        var removed = false
        if let previous = request.previous.flatMap(ObjectID.init(hex:)), previous != commit,
            (try? refs.move(to: previous, expecting: commit, message: message)) != nil
        {
            restored = previous
        } else if request.previous == nil, (try? refs.repository.deleteReference(refs.ref, expecting: commit)) != nil {
            removed = true
        }
        try? deploymentAgent.interrupted(environment, commit: commit, error: "\(error)")
        _ = try? store.appendEvent(
            taskID: nil,
            kind: .deployError,
            message: "\(environment): deploy of \(commit.short) by \(request.actor.name) did not finish: \(error)",
            data: ["env": environment, "commit": commit.hex, "actor": request.actor.name]
        )
        if let outage = error as? DeployOutage {
            return .outage(outage, ref: refs.ref, restoredTo: restored?.hex, removed: removed)
        }
        return .nothingSwitched(ref: refs.ref, reason: "\(error)", restoredTo: restored?.hex, kept: nil)
    }
}
