import ControlRepository
import Deploy
import Foundation
import Git
import Hosts
import Specs
import Store

/// The deployment agent: plans bringing an environment's hosts to a commit (`prepare`) and does
/// it (`rollout`: upload, switch every host at once, verify, roll every host back if one fails),
/// returning a report; `DeployRecorder` records it in git and the store. `deploy` is the two
/// together, for the deploy jobs (the controller's own and people's requests).
public struct DeploymentAgent: Sendable {
    public let repositoryPath: String
    public let store: Store
    public let connections: HostConnections
    public var verifier: RevisionVerifier

    public init(repositoryPath: String, store: Store, connections: HostConnections, verifier: RevisionVerifier = RevisionVerifier()) {
        self.repositoryPath = repositoryPath
        self.store = store
        self.connections = connections
        self.verifier = verifier
    }

    /// The store key holding the commit an environment's hosts were last brought to.
    public static func liveKey(_ environment: String) -> String { "env.\(environment).live" }

    /// The commit devsys last brought the environment's hosts to; nil before the first deploy.
    public func liveCommit(_ environment: String) throws -> ObjectID? {
        try store.value(forKey: Self.liveKey(environment)).flatMap(ObjectID.init(hex:))
    }

    /// What one deploy did.
    public struct Report: Sendable, Codable, Hashable {
        public var environment: String
        public var commit: String
        public var sequence: Int
        /// The tag made on success.
        public var tag: String?
        public var tasks: [String]
        public var rollout: Rollout.Result
        /// Set when the env ref was reset to this commit after a failure.
        public var resetTo: String?
        /// The env ref was removed after a failed first deploy (nothing to roll back to).
        public var refRemoved: Bool = false
        /// Set when this deploy put the environment back on an earlier deploy: that tag.
        public var rollbackTo: String?
        /// The commit a rollback left, now marked bad.
        public var rolledBackFrom: String?
        /// Tasks whose change a rollback took off the environment (now `merged` again).
        public var tasksRolledBack: [String] = []
        /// Tasks whose `http` acceptance checks ran: every task the commit brings to the environment.
        public var tasksChecked: [String] = []
        public var succeeded: Bool { rollout.succeeded }

        /// What the audit log says of it: `ok: <tag>`, or `failed: <why>`.
        public var auditOutcome: String {
            succeeded ? "ok" + (tag.map { ": \($0)" } ?? "") : "failed: \(rollout.failure ?? "deploy failed")"
        }
    }

    /// The environment, its hosts and apps as devsys.yaml on the trunk says.
    public struct Plan: Sendable {
        public var config: ProjectConfig
        public var environment: ProjectConfig.Environment
        public var hosts: [ProjectConfig.Host]
    }

    public func plan(_ name: String, repository: Repository) throws -> Plan {
        let control = ControlRepository(repository)
        let trunk = try control.trunkCommit()
        guard let config = try control.specs(named: [], at: trunk.commit).config else {
            throw ControlRepositoryError.invalidConfig(commit: trunk.commit.short)
        }
        guard let environment = config.environment(named: name) else {
            throw EnvironmentError.unknownEnvironment(name, known: config.environments.map(\.name))
        }
        let hosts = try environment.hosts.map { hostName in
            guard let host = config.host(named: hostName) else { throw ControlRepositoryError.invalidConfig(commit: trunk.commit.short) }
            return host
        }
        return Plan(config: config, environment: environment, hosts: hosts)
    }

    /// The hosts of `environment` as devsys.yaml on the trunk names them. Throws
    /// `EnvironmentError.unknownEnvironment` (listing the known ones) or `ControlRepositoryError.invalidConfig`.
    @discardableResult
    public func environmentHosts(_ environment: String) throws -> [ProjectConfig.Host] {
        try plan(environment, repository: Repository.open(at: repositoryPath)).hosts
    }

    /// What one host holds for one app.
    public struct HostState: Sendable, Encodable {
        public var host: String
        public var app: String
        /// The live revision folder and its commit; nil before the first deploy.
        public var live: String?
        public var liveCommit: String?
        /// Every complete revision folder, oldest first.
        public var revisions: [String]
        /// Why the host could not be read.
        public var error: String?
    }

    /// Asks every host of `environment` what it serves and keeps (for `devsys revisions --hosts`).
    public func hostStates(_ environment: String) throws -> [HostState] {
        let plan = try plan(environment, repository: Repository.open(at: repositoryPath))
        return try targets(plan, actor: "devsys").map { target in
            let deployer = target.deployer
            do {
                let revisions = try deployer.revisions()
                let live = try deployer.current()
                return HostState(
                    host: deployer.host,
                    app: deployer.app,
                    live: live?.revision.folderName,
                    liveCommit: live?.commit.hex,
                    revisions: revisions.map(\.revision.folderName),
                    error: nil
                )
            } catch {
                return HostState(host: deployer.host, app: deployer.app, live: nil, liveCommit: nil, revisions: [], error: "\(error)")
            }
        }
    }

    /// One target per host and app of the environment.
    func targets(_ plan: Plan, actor: String) throws -> [RolloutTarget] {
        var targets: [RolloutTarget] = []
        for host in plan.hosts {
            let transport = try connections.transport(for: host)
            for app in plan.config.apps {
                var deployer = try HostDeployer(transport: transport, app: app.name, root: connections.root(of: host), actor: actor)
                deployer.commandTimeout = .seconds(120)
                deployer.shared = app.shared
                deployer.writable = app.writable
                let url = host.url.map { plan.config.apps.count == 1 ? $0 : ($0.hasSuffix("/") ? $0 : $0 + "/") + app.name }
                targets.append(RolloutTarget(deployer: deployer, url: url, build: app.build, release: app.release, phpErrorLog: host.phpErrorLog))
            }
        }
        return targets
    }

    /// One deploy, planned from devsys.yaml on the trunk: where it goes, what it ships, and the
    /// rollout that will do it. Made by `prepare`, run by `rollout`, recorded by `DeployRecorder`.
    public struct PreparedDeploy: Sendable {
        public var environment: String
        public var commit: ObjectID
        /// The deploy tag's number if it succeeds.
        public var sequence: Int
        public var hosts: [String]
        /// The tasks it ships: merged (or deploying, or failed at deploy) tasks for this
        /// environment the commit contains. They become `deploying`, then `deployed` or `failed`.
        public var tasks: [String]
        /// Every task the commit brings to the environment (its change is not live there yet):
        /// their `http` acceptance checks are part of the verification.
        public var tasksChecked: [String]
        public var actor: String
        public var reason: String
        /// The commit devsys last brought the hosts to before this deploy.
        public var previous: ObjectID?
        /// Set when the deploy goes back to an earlier deploy's commit (`devsys rollback`, or
        /// the env ref moved there with git): what it goes back to and what it leaves.
        public var rollback: Rollback?
        let rollout: Rollout
    }

    /// A deploy that goes back: to an earlier deploy tag's commit, an ancestor of what is live.
    public struct Rollback: Sendable {
        public var to: DeployTag
        /// The live commit it leaves: marked bad before the rollout.
        public var leaving: ObjectID
        /// Deployed tasks of the environment whose change the target does not hold.
        public var tasksTakenOff: [String]
    }

    /// Plans bringing `environment` to `commit`: reads nothing from the hosts and records nothing.
    /// `rollbackTo` names the deploy tag a `devsys rollback` goes back to; without it, a commit
    /// that an earlier deploy tag names and that is an ancestor of what is live is a rollback too.
    /// Throws `EnvironmentError.unknownEnvironment`, `ControlRepositoryError.invalidConfig`, `GitError`.
    public func prepare(
        environment name: String,
        commit: ObjectID,
        actor: String,
        reason: String,
        rollbackTo: DeployTag? = nil
    ) throws -> PreparedDeploy {
        let repository = try Repository.open(at: repositoryPath)
        let refs = EnvironmentRefs(repository: repository, environment: name)
        let plan = try plan(name, repository: repository)
        let live = try liveCommit(name)
        let tasks = try tasksShipped(to: name, in: commit, since: live, repository: repository)
        let sequence = try refs.nextSequence()
        let apps = Dictionary(uniqueKeysWithValues: plan.config.apps.map { ($0.name, $0.path) })
        let path = repositoryPath
        let rollout = Rollout(
            targets: try targets(plan, actor: actor),
            commit: commit,
            sequence: sequence,
            checks: tasks.checked.flatMap(\.checks),
            keepRevisions: plan.environment.keepRevisions,
            verifier: verifier,
            makeSource: { app in AppSource(repository: try Repository.open(at: path), path: apps[app] ?? app) }
        )
        return PreparedDeploy(
            environment: name,
            commit: commit,
            sequence: sequence,
            hosts: plan.hosts.map(\.name),
            tasks: tasks.shipped,
            tasksChecked: tasks.checked.map(\.id),
            actor: actor,
            reason: reason,
            previous: live,
            rollback: try rollback(to: commit, from: live, explicit: rollbackTo, refs: refs, repository: repository),
            rollout: rollout
        )
    }

    /// Whether going to `commit` from `live` is a rollback, and which tasks it takes off.
    func rollback(to commit: ObjectID, from live: ObjectID?, explicit: DeployTag?, refs: EnvironmentRefs, repository: Repository) throws -> Rollback?
    {
        guard let live, live != commit else { return nil }
        let target: DeployTag
        if let explicit {
            target = explicit
        } else {
            guard let tag = try refs.tags().last(where: { $0.commit == commit.hex }), try repository.isAncestor(commit, of: live) else { return nil }
            target = tag
        }
        var takenOff: [String] = []
        let deployed = try store.tasks(states: [.deployed])
        if !deployed.isEmpty {
            let control = ControlRepository(repository)
            let (_, snapshots) = try control.specs(named: Set(deployed.map(\.id)), at: try control.trunkCommit().commit)
            for task in deployed {
                guard snapshots.first(where: { $0.id == task.id })?.spec?.deploy?.env == refs.environment,
                    let head = task.branchHead.flatMap(ObjectID.init(hex:)), try !repository.isAncestor(head, of: commit)
                else { continue }
                takenOff.append(task.id)
            }
        }
        return Rollback(to: target, leaving: live, tasksTakenOff: takenOff.sorted())
    }

    /// Does the rollout: every host brought to the commit, switched at once, verified, and all
    /// rolled back if any fails. Records nothing in git or the store (`DeployRecorder` does).
    /// Throws before anything switched (a host unreachable or locked, an upload cut).
    public func rollout(_ deploy: PreparedDeploy, progress: @escaping @Sendable (String) -> Void = { _ in }) throws -> Report {
        progress("deploying \(deploy.commit.short) to \(deploy.environment) (\(deploy.hosts.joined(separator: ", "))): \(deploy.reason)")
        let result = try deploy.rollout.run(progress: progress)
        return Report(
            environment: deploy.environment,
            commit: deploy.commit.hex,
            sequence: deploy.sequence,
            tag: nil,
            tasks: deploy.tasks,
            rollout: result
        )
    }

    /// Brings `environment` to `commit` (which the env ref names) and records the outcome: the
    /// tasks `deploying`, then a tag and `deployed`, or the commit marked bad, the env ref reset
    /// and the tasks `failed`. Throws before anything switched (a host unreachable or locked, an
    /// upload cut): the caller retries. Returns the report of a deploy that switched, succeeded or
    /// was rolled back.
    public func deploy(
        environment name: String,
        commit: ObjectID,
        actor: String,
        reason: String,
        rollbackTo: DeployTag? = nil,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> Report {
        let prepared = try prepare(environment: name, commit: commit, actor: actor, reason: reason, rollbackTo: rollbackTo)
        let recorder = DeployRecorder(repositoryPath: repositoryPath, store: store)
        try recorder.started(prepared)
        let report = try recorder.finished(prepared, try rollout(prepared, progress: progress), progress: progress)
        if report.rollout.failureKind == .infrastructure { throw DeployOutage(report: report) }
        return report
    }

    /// A deploy stopped by the infrastructure before it could finish (nothing switched, or what
    /// switched was put back): the tasks it was shipping go back to `merged`, nothing is marked.
    /// For a person's `devsys deploy`, whose env ref goes back too; the controller retries instead.
    public func interrupted(_ environment: String, commit: ObjectID, error: String) throws {
        let repository = try Repository.open(at: repositoryPath)
        let tasks = try tasksShipped(to: environment, in: commit, since: nil, repository: repository).shipped
        try store.transaction { transaction in
            for task in tasks {
                try transaction.transition(
                    taskID: task,
                    from: [.deploying],
                    to: .merged,
                    reason: "deploy to \(environment) did not finish (\(error.firstLine)); nothing is marked bad: deploy again"
                )
            }
        }
    }

    /// A deploy job that kept failing before any host switched (a host unreachable, locked):
    /// the tasks it was shipping fail with the reason; the hosts still serve what they did.
    public func gaveUp(environment: String, commit: ObjectID, error: String) throws {
        let repository = try Repository.open(at: repositoryPath)
        let tasks = try tasksShipped(to: environment, in: commit, since: nil, repository: repository).shipped
        try store.transaction { transaction in
            for task in tasks {
                try transaction.transition(taskID: task, from: [.deploying], to: .failed, reason: "deploy to \(environment) gave up: \(error)")
            }
        }
    }

    /// The tasks a deploy of `commit` to `environment` concerns. `shipped`: tasks for this
    /// environment (`deploy.env`) whose branch head the commit contains and that wait for it —
    /// merged, deploying, or failed at an earlier deploy. `checked`: those, and every other task
    /// whose change the commit brings (contained in it, not in `live`), with their `http` checks.
    func tasksShipped(
        to environment: String,
        in commit: ObjectID,
        since live: ObjectID?,
        repository: Repository
    ) throws -> (shipped: [String], checked: [(id: String, checks: [TaskSpec.HTTPProbe])]) {
        let candidates = try store.tasks(states: [.merged, .deploying, .deployed, .failed]).filter { $0.branchHead != nil }
        guard !candidates.isEmpty else { return ([], []) }
        let control = ControlRepository(repository)
        let (_, snapshots) = try control.specs(named: Set(candidates.map(\.id)), at: try control.trunkCommit().commit)
        var shipped: [String] = []
        var checked: [(id: String, checks: [TaskSpec.HTTPProbe])] = []
        for task in candidates {
            guard let spec = snapshots.first(where: { $0.id == task.id })?.spec,
                let head = task.branchHead.flatMap(ObjectID.init(hex:)), try repository.isAncestor(head, of: commit)
            else { continue }
            var waits = spec.deploy?.env == environment && [.merged, .deploying, .failed].contains(task.state)
            if waits, task.state == .failed { waits = try store.failedStep(of: task) == .deploy }
            if waits { shipped.append(task.id) }
            let new = try live.map { try !repository.isAncestor(head, of: $0) } ?? true
            guard waits || new else { continue }
            let checks = spec.acceptance.compactMap { check -> TaskSpec.HTTPProbe? in
                if case .http(let probe) = check.probe { return probe }
                return nil
            }
            checked.append((task.id, checks))
        }
        return (shipped.sorted(), checked.sorted { $0.id < $1.id })
    }
}
