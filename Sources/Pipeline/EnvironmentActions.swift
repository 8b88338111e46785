import ControlRepository
import Foundation
import Git
import Store

/// What a person does to an environment — deploy a commit, roll back to an earlier deploy — for
/// the CLI and the manager API alike. Each operation checks the actor's role, moves the env ref
/// with compare-and-swap, has the deployment agent bring the hosts there, and writes one audit
/// row (`ok: <tag>`, `failed: …`, `refused: …`).
///
/// Roles: `deployer`, or the environment's `approval:` role when that is higher.
public struct EnvironmentActions: Sendable {
    public let agent: DeploymentAgent
    public var store: Store { agent.store }

    public init(agent: DeploymentAgent) {
        self.agent = agent
    }

    /// Which earlier deploy a rollback goes back to.
    public enum RollbackTarget: Sendable, Hashable {
        /// This many distinct earlier deploys back from the env ref's commit, skipping bad ones (1: the one before).
        case stepsBack(Int)
        /// A deploy tag: `deploy/<env>/<NNNN>`, or just its number.
        case tag(String)
    }

    /// Promotes `revision` (a commit, tag or branch; nil: the trunk's head) to `environment` and
    /// deploys it. A commit marked bad there is refused unless `force`, which clears the mark.
    /// When the deploy stops before any host switched, the env ref is put back where it was, so
    /// no promotion is left for a running controller to carry out later.
    ///
    /// - Returns: The report of a deploy that switched: succeeded, or failed and rolled back.
    /// - Throws: `ActionRefusal` (role, an unknown revision), `DeployCommandError` (unknown
    ///   environment, marked bad), `EnvironmentActionError` (the env ref moved meanwhile, or
    ///   nothing switched), `PipelineError.invalidConfig`.
    public func deploy(
        environment: String,
        revision: String? = nil,
        force: Bool = false,
        by actor: Principal,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> DeploymentAgent.Report {
        try store.audited(actor, force ? "deploy --force" : "deploy", target: "env/\(environment)", outcome: Self.outcome) { target in
            let repository = try Repository.open(at: agent.repositoryPath)
            let refs = EnvironmentRefs(repository: repository, environment: environment)
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
                        message: "\(environment): deploy of \(commit.short) by \(actor.name) refused: it is marked bad (\(bad)); --force deploys it",
                        data: ["env": environment, "commit": commit.hex, "actor": actor.name]
                    )
                    throw DeployCommandError.badRevision(environment: environment, commit: commit.hex, reason: bad)
                }
                try refs.clearBad(commit, by: actor.name)
            }
            let previous = try refs.desired()
            try promote(refs, to: commit, why: "deploy by \(actor.name)")
            do {
                return try agent.deploy(
                    environment: environment,
                    commit: commit,
                    actor: actor.name,
                    reason: "deploy by \(actor.name)",
                    progress: progress
                )
            } catch {
                // Nothing switched, or what switched is back: the env ref goes back too, so no
                // running controller carries the promotion out later; the tasks wait again.
                let message = "devsys: deploy of \(commit.short) did not finish"
                var restored: ObjectID?
                var removed = false
                if let previous, previous != commit, (try? refs.move(to: previous, expecting: commit, message: message)) != nil {
                    restored = previous
                } else if previous == nil, (try? refs.repository.deleteReference(refs.ref, expecting: commit)) != nil {
                    removed = true
                }
                try? agent.interrupted(environment, commit: commit, error: "\(error)")
                _ = try? store.appendEvent(
                    taskID: nil,
                    kind: .deployError,
                    message: "\(environment): deploy of \(commit.short) by \(actor.name) did not finish: \(error)",
                    data: ["env": environment, "commit": commit.hex, "actor": actor.name]
                )
                if let outage = error as? DeployOutage {
                    throw EnvironmentActionError.outage(outage, ref: refs.ref, restoredTo: restored, removed: removed)
                }
                throw EnvironmentActionError.nothingSwitched(ref: refs.ref, reason: "\(error)", restoredTo: restored, kept: nil)
            }
        }
    }

    /// Puts `environment` back on an earlier deploy: marks the commit the env ref leaves bad (auto
    /// deploy never ships it again), moves the env ref to the target's commit and deploys it (a
    /// revision still on the hosts is switched back without uploading). When nothing switched,
    /// the env ref stays on the target, so a running controller deploys it once the hosts answer.
    ///
    /// - Throws: `ActionRefusal` (role), `DeployCommandError` (unknown environment or tag, nothing
    ///   to roll back to), `EnvironmentActionError`.
    public func rollback(
        environment: String,
        to destination: RollbackTarget = .stepsBack(1),
        by actor: Principal,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> DeploymentAgent.Report {
        try store.audited(actor, "rollback", target: "env/\(environment)", outcome: Self.outcome) { target in
            let repository = try Repository.open(at: agent.repositoryPath)
            let refs = EnvironmentRefs(repository: repository, environment: environment)
            try requireRole(actor, environment: environment, repository: repository, action: "roll \(environment) back")
            // From what is live (the env ref may name a deploy still pending or retried).
            let live = try agent.liveCommit(environment)
            let current = try live ?? refs.desired()
            let tag = try Self.rollbackTag(destination, refs: refs, current: current)
            target = "env/\(environment)@\(tag.name)"
            guard let commit = ObjectID(hex: tag.commit) else { throw DeployCommandError.unknownTag(tag.name, environment: environment) }
            if live == nil, let current, current != commit {
                // Nothing known to be live: the deploy cannot tell what it leaves; mark the env ref's commit.
                try refs.markBad(current, by: actor.name, reason: "rolled back to \(tag.name)")
            }
            try? refs.clearBad(commit, by: actor.name)
            let why = "rollback to \(tag.name) by \(actor.name)"
            try promote(refs, to: commit, why: why)
            do {
                return try agent.deploy(environment: environment, commit: commit, actor: actor.name, reason: why, rollbackTo: tag, progress: progress)
            } catch {
                throw EnvironmentActionError.nothingSwitched(ref: refs.ref, reason: "\(error)", restoredTo: nil, kept: commit)
            }
        }
    }

    /// The deploy tag a rollback goes to (DESIGN §5): the environment's deploy history is its tags
    /// in order; going back by steps walks it newest first from the live deploy, counting each
    /// commit once and skipping the live commit itself and bad ones. After a rollback (with git or
    /// `devsys rollback`) the commit it left is bad, so the next one goes further back.
    /// Throws `DeployCommandError.unknownTag` or `.nothingToRollBackTo`.
    public static func rollbackTag(_ destination: RollbackTarget, refs: EnvironmentRefs, current: ObjectID?) throws -> DeployTag {
        let tags = try refs.tags()
        switch destination {
        case .tag(let given):
            let name = given.contains("/") ? given : refs.tagName(sequence: Int(given) ?? -1)
            guard let tag = tags.first(where: { $0.name == name || ControlRefs.tagPrefix + $0.name == name }) else {
                throw DeployCommandError.unknownTag(given, environment: refs.environment)
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
            guard index < candidates.count else { throw DeployCommandError.nothingToRollBackTo(refs.environment) }
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
            throw EnvironmentActionError.refMoved(ref: refs.ref, commit: commit)
        }
    }

    static func outcome(_ report: DeploymentAgent.Report) -> String {
        report.succeeded ? "ok" + (report.tag.map { ": \($0)" } ?? "") : "failed: \(report.rollout.failure ?? "deploy failed")"
    }
}

/// Why a deploy or rollback a person asked for did not happen.
public enum EnvironmentActionError: Error, Sendable, CustomStringConvertible {
    /// Someone moved the env ref while it was being promoted.
    case refMoved(ref: String, commit: ObjectID)
    /// The deploy stopped before any host switched (a host unreachable or locked, an upload cut).
    /// `restoredTo`: where the env ref was put back; `kept`: the commit it was left on.
    case nothingSwitched(ref: String, reason: String, restoredTo: ObjectID?, kept: ObjectID?)
    /// Hosts switched, then verification got no answer (or a switch failed): they are back on
    /// what they served, nothing is marked bad. `removed`: the env ref was removed (a first deploy).
    case outage(DeployOutage, ref: String, restoredTo: ObjectID?, removed: Bool)

    public var description: String {
        switch self {
        case .refMoved(let ref, let commit):
            return "\(ref) moved while promoting \(commit.short); look at it and try again"
        case .nothingSwitched(let ref, let reason, let restored, let kept):
            var text = reason + "\nnothing was switched"
            if let restored { text += "; \(ref) is back on \(restored.short)" }
            if let kept { text += "; \(ref) stays on \(kept.short), which a running controller deploys when the hosts answer" }
            return text + "; nothing is marked bad: run it again once the cause is fixed"
        case .outage(let outage, let ref, let restored, let removed):
            var text = outage.description
            if let restored { text += "\n\(ref) is back on \(restored.short)" }
            if removed { text += "\n\(ref) is removed again (it named nothing before)" }
            return text + "\nwhen the hosts and their web servers answer, deploy again (no --force needed)"

        }
    }
}
