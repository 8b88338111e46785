import ControlRepository
import Environments
import Foundation
import Git
import Specs
import Store

/// Environments in the reconcile pass: an env ref that differs from what the hosts were brought to
/// gets a deploy job (so `git push --force … :refs/heads/env/prod` deploys, or rolls back), and a
/// merged task whose environment deploys automatically moves that env ref.
extension Reconciler {
    /// The job key of deploying `commit` to `environment`.
    public static func deployKey(_ environment: String, _ commit: ObjectID) -> JobKey {
        JobKey(subject: .environment(environment), step: .deploy, inputCommit: commit.hex)
    }

    /// The environment a deploy job's key names.
    public static func environment(ofDeploy key: JobKey) -> String {
        switch key.subject {
        case .environment(let name): name
        case .task(let id): id
        }
    }

    /// Queues a deploy for every env ref that names another commit than the one its hosts serve.
    /// A commit marked bad is refused once, with an event. Costs one ref listing and one store
    /// read per environment when nothing changed.
    func requestDeploys(in repository: Repository, into summary: inout ReconcileSummary, now: Date) throws {
        for reference in try repository.references(withPrefix: ControlRefs.environmentPrefix) {
            let environment = String(reference.name.dropFirst(ControlRefs.environmentPrefix.count))
            let desired = reference.target
            guard try store.value(forKey: DeploymentAgent.liveKey(environment)) != desired.hex else { continue }
            let key = Self.deployKey(environment, desired)
            let existing = try store.job(key: key)
            if let existing, existing.state == .pending || existing.state == .leased || existing.state == .dead { continue }

            let refs = EnvironmentRefs(repository: repository, environment: environment)
            if let bad = try refs.badReason(desired) {
                try refuseOnce(
                    desired,
                    in: environment,
                    "\(reference.name) names \(desired.short), which is marked bad (\(bad)); "
                        + "not deploying it. Deploy it anyway with: devsys deploy \(environment) --rev \(desired.short) --force",
                    now: now
                )
                continue
            }
            try store.transaction { transaction in
                _ = try transaction.restart(key, maxAttempts: Self.deployAttempts, backoff: Self.deployBackoff, now: now)
            }
            summary.deploys.append(environment)
        }
    }

    /// A `deploy.refused` event for a bad `commit` in `environment`, written once per commit
    /// (the store key `env.<env>.refused` holds the last one said), not on every pass.
    private func refuseOnce(_ commit: ObjectID, in environment: String, _ message: String, now: Date) throws {
        let refusedKey = "env.\(environment).refused"
        guard try store.value(forKey: refusedKey) != commit.hex else { return }
        try store.transaction { transaction in
            try transaction.setValue(commit.hex, forKey: refusedKey, now: now)
            try transaction.appendEvent(
                taskID: nil,
                kind: .deployRefused,
                message: message,
                data: ["env": environment, "commit": commit.hex],
                at: now
            )
        }
    }

    /// Leases of a deploy job: a host that stays unreachable is retried with backoff this often.
    static let deployAttempts = 6
    static let deployBackoff = RetryBackoff(base: 5, max: 300, jitter: 0.2)

    /// Moves the env ref of each environment with `auto_deploy` (and no `approval`) to the trunk
    /// when a merged task names it in `deploy.env`. A bad trunk commit is never promoted.
    func advanceEnvironments(in control: ControlRepository, trunk: ObjectID, into summary: inout ReconcileSummary, now: Date) throws {
        let merged = try store.tasks(states: [.merged])
        guard !merged.isEmpty else { return }
        let (config, snapshots) = try control.specs(named: Set(merged.map(\.id)), at: trunk)
        guard let config else { return }
        var environments = Set<String>()
        for task in merged {
            guard let env = snapshots.first(where: { $0.id == task.id })?.spec?.deploy?.env,
                let environment = config.environment(named: env), environment.autoDeploy, environment.approval == nil
            else { continue }
            environments.insert(env)
        }
        for environment in environments.sorted() {
            let refs = EnvironmentRefs(repository: control.repository, environment: environment)
            let desired = try refs.desired()
            if let desired, try desired == trunk || control.repository.isAncestor(trunk, of: desired) { continue }
            if let bad = try refs.badReason(trunk) {
                // Auto-deploy never puts a bad commit back.
                try refuseOnce(
                    trunk,
                    in: environment,
                    "auto-deploy skips \(trunk.short) for \(environment): it is marked bad (\(bad)); "
                        + "a new commit deploys, or: devsys deploy \(environment) --rev \(trunk.short) --force",
                    now: now
                )
                continue
            }
            do {
                try refs.move(to: trunk, expecting: desired, message: "devsys: auto-deploy \(trunk.short) to \(environment)")
                try store.appendEvent(
                    taskID: nil,
                    kind: .deployPromoted,
                    message: "\(refs.ref) → \(trunk.short) (auto_deploy)",
                    data: ["env": environment, "commit": trunk.hex],
                    at: now
                )
                summary.promoted.append(environment)
            } catch let error as GitError where error.isLostRace {
                continue  // someone moved the env ref meanwhile: theirs stands
            }
        }
    }
}
