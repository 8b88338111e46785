import ControlRepository
import Deploy
import Foundation
import Git
import Specs
import Store

/// The deployment agent: brings an environment's hosts to a commit and records the result in
/// git and the store. Used by the controller's deploy jobs and by `devsys deploy`/`rollback`.
///
/// Success: annotated tag `deploy/<env>/<NNNN>` (tasks, actor, hosts, verification), the
/// environment's tasks `deployed`, `env.<env>.live` = the commit. A failed switch or verification:
/// every host back on what it served, the commit marked bad, the env ref reset to the commit that
/// is live again (compare-and-swap, so a newer push wins), the tasks `failed`.
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
    static func liveKey(_ environment: String) -> String { "env.\(environment).live" }

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
        public var succeeded: Bool { rollout.succeeded }
    }

    /// The environment, its hosts and apps as devsys.yaml on the trunk says.
    struct Plan {
        var config: ProjectConfig
        var environment: ProjectConfig.Environment
        var hosts: [ProjectConfig.Host]
    }

    func plan(_ name: String, repository: Repository) throws -> Plan {
        let control = ControlRepository(repository)
        let trunk = try control.trunkCommit()
        guard let config = try control.specs(named: [], at: trunk.commit).config else { throw PipelineError.invalidConfig(trunk.commit.short) }
        guard let environment = config.environment(named: name) else {
            throw DeployCommandError.unknownEnvironment(name, known: config.environments.map(\.name))
        }
        let hosts = try environment.hosts.map { hostName in
            guard let host = config.host(named: hostName) else { throw PipelineError.invalidConfig(trunk.commit.short) }
            return host
        }
        return Plan(config: config, environment: environment, hosts: hosts)
    }

    /// The hosts of `environment` as devsys.yaml on the trunk names them. Throws
    /// `DeployCommandError.unknownEnvironment` (listing the known ones) or `PipelineError.invalidConfig`.
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
                let url = host.url.map { plan.config.apps.count == 1 ? $0 : ($0.hasSuffix("/") ? $0 : $0 + "/") + app.name }
                targets.append(RolloutTarget(deployer: deployer, url: url))
            }
        }
        return targets
    }

    /// Brings `environment` to `commit` (which the env ref names). Throws before anything switched
    /// (a host unreachable or locked, an upload cut): the caller retries. Returns the report of a
    /// deploy that switched, succeeded or was rolled back.
    public func deploy(
        environment name: String,
        commit: ObjectID,
        actor: String,
        reason: String,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> Report {
        let repository = try Repository.open(at: repositoryPath)
        let refs = EnvironmentRefs(repository: repository, environment: name)
        let plan = try plan(name, repository: repository)
        let tasks = try tasksShipped(to: name, in: commit, repository: repository)
        let sequence = try refs.nextSequence()
        let apps = Dictionary(uniqueKeysWithValues: plan.config.apps.map { ($0.name, $0.path) })
        let path = repositoryPath
        let rollout = Rollout(
            targets: try targets(plan, actor: actor),
            commit: commit,
            sequence: sequence,
            checks: tasks.flatMap(\.checks),
            keepRevisions: plan.environment.keepRevisions,
            verifier: verifier,
            makeSource: { app in AppSource(repository: try Repository.open(at: path), path: apps[app] ?? app) }
        )
        let previous = try liveCommit(name)
        if !tasks.isEmpty {
            try store.transaction { transaction in
                for task in tasks {
                    try transaction.transition(
                        taskID: task.id,
                        from: [.merged, .deploying],
                        to: .deploying,
                        reason: "deploying \(commit.short) to \(name)"
                    )
                }
            }
        }
        progress("deploying \(commit.short) to \(name) (\(plan.hosts.map(\.name).joined(separator: ", "))): \(reason)")
        let result = try rollout.run(progress: progress)
        var report = Report(environment: name, commit: commit.hex, sequence: sequence, tag: nil, tasks: tasks.map(\.id), rollout: result)
        if result.succeeded {
            try recordSuccess(&report, refs: refs, hosts: plan.hosts.map(\.name), actor: actor, reason: reason)
        } else {
            try recordFailure(&report, refs: refs, previous: previous, actor: actor, progress: progress)
        }
        return report
    }

    /// Tags the deploy, marks the environment live on the commit and its tasks deployed.
    private func recordSuccess(_ report: inout Report, refs: EnvironmentRefs, hosts: [String], actor: String, reason: String) throws {
        let tag = try tagIfNew(refs, report: report, actor: actor, reason: reason)
        report.tag = tag
        let commit = report.commit
        try store.transaction { transaction in
            try transaction.setValue(commit, forKey: Self.liveKey(refs.environment))
            for task in report.tasks {
                try transaction.transition(
                    taskID: task,
                    from: [.merged, .deploying],
                    to: .deployed,
                    reason: "deployed to \(refs.environment) as \(tag ?? String(commit.prefix(12)))"
                )
            }
            try transaction.appendEvent(
                taskID: nil,
                kind: "deploy.succeeded",
                message: "\(refs.environment): \(commit.prefix(12)) live on \(hosts.joined(separator: ", "))" + (tag.map { " (\($0))" } ?? ""),
                data: ["env": refs.environment, "commit": commit, "actor": actor, "tag": tag ?? ""]
            )
        }
    }

    /// The hosts were rolled back: the commit is marked bad, the env ref goes back to what is live
    /// (unless someone moved it meanwhile), the tasks fail.
    private func recordFailure(
        _ report: inout Report,
        refs: EnvironmentRefs,
        previous: ObjectID?,
        actor: String,
        progress: (String) -> Void
    ) throws {
        guard let commit = ObjectID(hex: report.commit) else { return }
        let failure = report.rollout.failure ?? "deploy failed"
        try refs.markBad(commit, by: actor, reason: failure)
        let live = report.rollout.hosts.first { $0.rolledBack }?.previousCommit.flatMap(ObjectID.init(hex:)) ?? previous
        if let live, live != commit {
            do {
                try refs.move(to: live, expecting: commit, message: "devsys: \(commit.short) failed on \(refs.environment); back to \(live.short)")
                report.resetTo = live.hex
            } catch let error as GitError where error.isLostRace {
                progress("\(refs.ref) moved meanwhile; left as it is")
            }
        }
        let tasks = report.tasks
        try store.transaction { transaction in
            try transaction.setValue(live?.hex, forKey: Self.liveKey(refs.environment))
            for task in tasks {
                try transaction.transition(taskID: task, from: [.deploying], to: .failed, reason: "deploy to \(refs.environment) failed: \(failure)")
            }
            try transaction.appendEvent(
                taskID: nil,
                kind: "deploy.failed",
                message: "\(refs.environment): \(commit.short) rolled back: \(failure)",
                data: ["env": refs.environment, "commit": commit.hex, "actor": actor, "rolled_back_to": live?.hex ?? ""]
            )
        }
    }

    /// A deploy job that kept failing before any host switched (a host unreachable, locked):
    /// the tasks it was shipping fail with the reason; the hosts still serve what they did.
    public func gaveUp(environment: String, commit: ObjectID, error: String) throws {
        let repository = try Repository.open(at: repositoryPath)
        let tasks = try tasksShipped(to: environment, in: commit, repository: repository)
        try store.transaction { transaction in
            for task in tasks {
                try transaction.transition(taskID: task.id, from: [.deploying], to: .failed, reason: "deploy to \(environment) gave up: \(error)")
            }
        }
    }

    /// The tasks this deploy ships: merged (or deploying) tasks for this environment whose branch
    /// head the commit contains.
    func tasksShipped(to environment: String, in commit: ObjectID, repository: Repository) throws -> [(id: String, checks: [TaskSpec.HTTPProbe])] {
        let candidates = try store.tasks(states: [.merged, .deploying])
        guard !candidates.isEmpty else { return [] }
        let control = ControlRepository(repository)
        let (_, snapshots) = try control.specs(named: Set(candidates.map(\.id)), at: try control.trunkCommit().commit)
        var shipped: [(id: String, checks: [TaskSpec.HTTPProbe])] = []
        for task in candidates {
            guard let spec = snapshots.first(where: { $0.id == task.id })?.spec, spec.deploy?.env == environment,
                let head = task.branchHead.flatMap(ObjectID.init(hex:)), try repository.isAncestor(head, of: commit)
            else { continue }
            let checks = spec.acceptance.compactMap { check -> TaskSpec.HTTPProbe? in
                if case .http(let probe) = check.probe { return probe }
                return nil
            }
            shipped.append((task.id, checks))
        }
        return shipped.sorted { $0.id < $1.id }
    }

    /// Tags the deploy unless the environment's latest tag already names this commit (a repeated
    /// job, a heal of drift).
    private func tagIfNew(_ refs: EnvironmentRefs, report: Report, actor: String, reason: String) throws -> String? {
        if let last = try refs.tags().last, last.commit == report.commit { return last.name }
        let name = refs.tagName(sequence: report.sequence)
        guard let commit = ObjectID(hex: report.commit) else { return nil }
        try refs.repository.createAnnotatedTag(
            named: name,
            target: commit,
            tagger: Signature(actor: actor),
            message: Self.tagMessage(report, actor: actor, reason: reason)
        )
        return name
    }

    /// The deploy tag's message: a subject, `Key: value` lines, then one line per host.
    static func tagMessage(_ report: Report, actor: String, reason: String) -> String {
        var lines = [
            "Deploy \(report.commit.prefix(12)) to \(report.environment)",
            "",
            "Environment: \(report.environment)",
            "Commit: \(report.commit)",
            "Actor: \(actor)",
            "Reason: \(reason)",
            "Tasks: \(report.tasks.isEmpty ? "none" : report.tasks.joined(separator: ", "))",
            "Hosts: \(report.rollout.hosts.map(\.host).joined(separator: ", "))",
            "Revision: \(report.rollout.hosts.first?.revision ?? "")",
            "",
            "Verification:",
        ]
        for host in report.rollout.hosts {
            if let verification = host.verification {
                let probes = [verification.revision] + verification.checks
                let detail = probes.map { probe -> String in
                    let snippet = probe.bodySnippet.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(40)
                    return "GET \(probe.path) \(probe.status.map(String.init) ?? "no response") \(probe.latencyMs) ms \"\(snippet)\""
                }.joined(separator: ", ")
                lines.append("  \(host.host)/\(host.app): \(verification.summary) [\(detail)]")
            } else {
                lines.append("  \(host.host)/\(host.app): \(host.note ?? "not verified")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Why a deploy, rollback or revisions command cannot go ahead.
public enum DeployCommandError: Error, CustomStringConvertible {
    case unknownEnvironment(String, known: [String])
    case badRevision(environment: String, commit: String, reason: String)
    case nothingToRollBackTo(String)
    case unknownTag(String, environment: String)

    public var description: String {
        switch self {
        case .unknownEnvironment(let name, let known):
            "no environment '\(name)' in devsys.yaml"
                + (known.isEmpty ? "; add one under 'environments'" : " (known: \(known.joined(separator: ", ")))")
        case .badRevision(let environment, let commit, let reason):
            "\(commit.prefix(12)) is marked bad in \(environment) (\(reason)); deploy it anyway with --force, which clears the mark"
        case .nothingToRollBackTo(let environment):
            "\(environment) has no earlier deploy to roll back to; 'devsys revisions \(environment)' lists its deploys"
        case .unknownTag(let tag, let environment):
            "no deploy tag '\(tag)' for \(environment); 'devsys revisions \(environment)' lists them"
        }
    }
}
