import ControlRepository
import Environments
import Foundation
import Git
import Pipeline
import Processes
import Specs
import Store

/// What a person does to an environment — deploy a commit, roll back to an earlier deploy. Each
/// is checked and refused at once (role, unknown revision or tag, a commit marked bad), then handed
/// to the deploy lane as a job: one deploy per environment at a time, whoever asked. The caller
/// gets a `DeployHandle` to follow; with no controller running, following runs the job itself.
///
/// Roles: `deployer`, or the environment's `approval:` role when that is higher.
extension ControlPlane {
    /// Which earlier deploy a rollback goes back to.
    public enum RollbackTarget: Sendable, Hashable {
        /// This many distinct earlier deploys back from the env ref's commit, skipping bad ones (1: the one before).
        case stepsBack(Int)
        /// A deploy tag: `deploy/<env>/<NNNN>`, or just its number.
        case tag(String)
    }

    /// A deploy or rollback handed to the deploy lane: the job that runs it.
    public struct DeployHandle: Sendable, Hashable, Codable {
        public var jobID: Int64
        public var environment: String
        public var commit: String
        /// `deploy`, `deploy --force` or `rollback`.
        public var action: String
        /// The last event before the request: following it shows the events after.
        public var since: Int64
    }

    /// Promotes `revision` (a commit, tag or branch; nil: the trunk's head) to `environment` and
    /// has the deploy lane deploy it. A commit marked bad there is refused unless `force`, which
    /// clears the mark. When the deploy stops before any host switched, the env ref is put back
    /// where it was, so no promotion is left for a running controller to carry out later.
    ///
    /// - Throws: `ActionRefusal` (role, an unknown revision), `EnvironmentError` (unknown
    ///   environment, marked bad, the env ref moved meanwhile, this commit deploying now).
    public func deploy(
        environment: String,
        revision: String? = nil,
        force: Bool = false,
        reason: String? = nil,
        by actor: Principal
    ) async throws -> DeployHandle {
        let action = force ? "deploy --force" : "deploy"
        return try await request(action, environment: environment, by: actor) { [self] repository, refs, target in
            try requireRole(actor, environment: environment, repository: repository, action: "deploy to \(environment)")
            let commit: ObjectID
            do {
                commit = try revision.map { try repository.resolve($0) } ?? ControlRepository(repository).trunkCommit().commit
            } catch {
                throw ActionRefusal.unknownRevision(revision ?? "the trunk", reason: "\(error)")
            }
            target = "env/\(environment)@\(commit.short)"
            if let bad = try refs.badReason(commit) {
                guard force else {
                    try store.appendEvent(
                        taskID: nil,
                        kind: .deployRefused,
                        message: "\(environment): deploy of \(commit.short) by \(actor.name) refused: it is marked bad (\(bad))",
                        data: ["env": environment, "commit": commit.hex, "actor": actor.name]
                    )
                    throw EnvironmentError.badRevision(environment: environment, commit: commit.hex, reason: bad)
                }
                try refs.clearBad(commit, by: actor.name)
            }
            let why = reason ?? "deploy by \(actor.name)"
            return (commit, DeployRequest(actor: actor, action: action, reason: why, previous: try refs.desired()?.hex))
        }
    }

    /// Puts `environment` back on an earlier deploy: marks the commit the env ref leaves bad (auto
    /// deploy never ships it again), moves the env ref to the target's commit and has the deploy
    /// lane deploy it (a revision still on the hosts is switched back without uploading). When
    /// nothing switched, the env ref stays on the target, so a running controller deploys it once
    /// the hosts answer.
    ///
    /// - Throws: `ActionRefusal` (role), `EnvironmentError` (unknown environment or tag, nothing to
    ///   roll back to, the env ref moved meanwhile).
    public func rollback(
        environment: String,
        to destination: RollbackTarget = .stepsBack(1),
        reason: String? = nil,
        by actor: Principal
    ) async throws -> DeployHandle {
        try await request("rollback", environment: environment, by: actor) { [self] repository, refs, target in
            try requireRole(actor, environment: environment, repository: repository, action: "roll \(environment) back")
            // From what is live (the env ref may name a deploy still pending or retried).
            let live = try agent.liveCommit(environment)
            let current = try live ?? refs.desired()
            let tag = try Self.rollbackTag(destination, refs: refs, current: current)
            target = "env/\(environment)@\(tag.name)"
            guard let commit = ObjectID(hex: tag.commit) else { throw EnvironmentError.unknownTag(tag.name, environment: environment) }
            if live == nil, let current, current != commit {
                // Nothing known to be live: the deploy cannot tell what it leaves; mark the env ref's commit.
                try refs.markBad(current, by: actor.name, reason: "rolled back to \(tag.name)")
            }
            try? refs.clearBad(commit, by: actor.name)
            let why = (reason.map { "rollback to \(tag.name) by \(actor.name): \($0)" }) ?? "rollback to \(tag.name) by \(actor.name)"
            return (commit, DeployRequest(actor: actor, action: "rollback", reason: why, previous: try refs.desired()?.hex, rollbackTo: tag))
        }
    }

    /// Checks a request (`decide`: refusals are audited at once), then queues its job held, moves
    /// the env ref with compare-and-swap, releases the job and wakes a running controller.
    private func request(
        _ action: String,
        environment: String,
        by actor: Principal,
        _ decide: @escaping @Sendable (Repository, EnvironmentRefs, inout String) throws -> (ObjectID, DeployRequest)
    ) async throws -> DeployHandle {
        try await offload { [self] in
            var target = "env/\(environment)"
            do {
                let repository = try repository()
                let refs = EnvironmentRefs(repository: repository, environment: environment)
                let since = try store.lastEventID()
                let (commit, request) = try decide(repository, refs, &target)
                let key = Reconciler.deployKey(environment, commit)
                // A deploy of this commit leased by a worker that is gone — no process holds the
                // controller lock: a killed `devsys deploy` — is taken over, as a controller would.
                let workerGone = try ControllerLock.take(state) != nil
                let payload = request.encoded()
                let attempts = Reconciler.crashAllowance + 1
                guard let job = try store.hold(key, payload: payload, maxAttempts: attempts, takingOverLease: workerGone) else {
                    throw EnvironmentError.deployRunning(environment: environment, commit: commit.hex)
                }
                do {
                    try promote(refs, to: commit, why: request.reason)
                } catch {
                    try store.withdraw(jobID: job.id, result: DeployOutcome(error: error).encoded())
                    throw error
                }
                try store.release(jobID: job.id)
                _ = NotifySocket.send(to: state.notifySocket)
                return DeployHandle(jobID: job.id, environment: environment, commit: commit.hex, action: action, since: since)
            } catch {
                _ = try? store.appendAudit(actor: actor, action: action, target: target, outcome: Store.auditOutcome(of: error))
                throw error
            }
        }
    }

    /// Waits for a deploy or rollback to end and returns its report (succeeded, or failed and
    /// rolled back). Meanwhile `progress` gets the environment's events as they are appended — or,
    /// when no controller runs, the deploy's own progress: the job is then run here, under the
    /// controller lock, as `devsys serve` would.
    /// - Throws: the error that stopped the deploy before anything lasting happened
    ///   (`DeployOutcome.Failure`, with its code and category).
    public func follow(_ handle: DeployHandle, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> DeploymentAgent.Report {
        var seen = handle.since
        var said: String?
        while true {
            guard let job = try await offload({ [store] in try store.job(id: handle.jobID) }) else {
                throw StoreError.jobNotFound(id: handle.jobID)
            }
            switch job.state {
            case .done:
                guard let outcome = DeployOutcome(result: job.result) else {
                    throw DeployOutcome.Failure(code: "deploy_superseded", category: .conflict, message: "the deploy ended without a report")
                }
                if let report = outcome.report { return report }
                throw outcome.error ?? DeployOutcome.Failure(code: "failed", category: .failed, message: "the deploy failed")
            case .dead:
                throw DeployOutcome.Failure(code: "deploy_gave_up", category: .failed, message: job.lastError ?? "the deploy job gave up")
            case .pending:
                if try await runHere(handle, progress: progress) { continue }
            case .leased:
                break
            }
            // Where the job is, said once per change: waiting in the deploy lane, or running.
            let whereItIs =
                "\(handle.action) of \(handle.commit.prefix(12)) to \(handle.environment) "
                + (job.state == .leased ? "runs on \(job.leaseOwner ?? "a controller")" : "waits in the deploy lane (job \(job.id))")
            if whereItIs != said {
                progress(whereItIs)
                said = whereItIs
            }
            let events = try await offload { [store, seen] in try store.events(after: seen) }
            for event in events {
                seen = event.id
                if event.data["env"] == handle.environment { progress("\(event.kind): \(event.message.firstLine)") }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Runs the handle's job in this process when no controller holds the lock; whether it did.
    private func runHere(_ handle: DeployHandle, progress: @escaping @Sendable (String) -> Void) async throws -> Bool {
        guard let lock = try ControllerLock.take(state) else { return false }
        let worker = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(handle.action)"
        guard let job = try await offload({ [store] in try store.lease(jobID: handle.jobID, worker: worker, for: 3600) }) else { return false }
        let runner = JobRunner(
            repositoryPath: repositoryPath,
            store: store,
            state: state,
            worker: worker,
            connections: connections,
            progress: progress
        )
        try await runner.run(job)
        withExtendedLifetime(lock) {}
        return true
    }

    /// The deploy tag a rollback goes to: the environment's deploy history is its tags in order;
    /// going back by steps walks it newest first from the live deploy, counting each commit once
    /// and skipping the live commit itself and bad ones. After a rollback (with git or the control
    /// plane) the commit it left is bad, so the next one goes further back.
    /// Throws `EnvironmentError.unknownTag` or `.nothingToRollBackTo`.
    public static func rollbackTag(_ destination: RollbackTarget, refs: EnvironmentRefs, current: ObjectID?) throws -> DeployTag {
        let tags = try refs.tags()
        switch destination {
        case .tag(let given):
            let name = given.contains("/") ? given : refs.tagName(sequence: Int(given) ?? -1)
            guard let tag = tags.first(where: { $0.name == name || ControlRefs.tagPrefix + $0.name == name }) else {
                throw EnvironmentError.unknownTag(given, environment: refs.environment)
            }
            return tag
        case .stepsBack(let steps):
            var seen = Set([current?.hex].compactMap { $0 })
            var candidates: [DeployTag] = []
            for tag in tags.reversed() where !seen.contains(tag.commit) {
                seen.insert(tag.commit)
                if let commit = ObjectID(hex: tag.commit), try refs.badReason(commit) != nil { continue }
                candidates.append(tag)
            }
            let index = max(steps, 1) - 1
            guard index < candidates.count else { throw EnvironmentError.nothingToRollBackTo(refs.environment) }
            return candidates[index]
        }
    }

    /// `deployer`, or the environment's `approval:` role when higher; also checks the environment exists.
    private func requireRole(_ actor: Principal, environment: String, repository: Repository, action: String) throws {
        let plan = try agent.plan(environment, repository: repository)
        try actor.require(max(.deployer, plan.environment.approval.map(Principal.Role.init) ?? .deployer), to: action)
    }

    /// Moves the env ref to `commit` (compare-and-swap on what it named).
    private func promote(_ refs: EnvironmentRefs, to commit: ObjectID, why: String) throws {
        let old = try refs.desired()
        guard old != commit else { return }
        do {
            try refs.move(to: commit, expecting: old, message: "devsys: \(why)")
        } catch let error as GitError where error.isLostRace {
            throw EnvironmentError.refMoved(ref: refs.ref, commit: commit.hex)
        }
    }
}
