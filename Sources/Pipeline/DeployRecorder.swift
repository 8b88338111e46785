import ControlRepository
import Foundation
import Git
import Store

/// Records what a deploy did, in git and the store (DESIGN §5), as the pipeline does for the
/// coding and testing agents' results: before the rollout the tasks it ships become `deploying`;
/// on success an annotated tag `deploy/<env>/<NNNN>` (tasks, actor, hosts, verification), the
/// environment live on the commit (`env.<env>.live`), the tasks `deployed` and a `deploy.succeeded`
/// event; on a failed switch or verification the commit marked bad, the env ref reset to what is
/// live again (compare-and-swap, so a newer push wins), the tasks `failed`, a `deploy.failed` event.
public struct DeployRecorder: Sendable {
    public let repositoryPath: String
    public let store: Store

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// The tasks the deploy ships become `deploying`.
    public func started(_ deploy: DeploymentAgent.PreparedDeploy) throws {
        guard !deploy.tasks.isEmpty else { return }
        try store.transaction { transaction in
            for task in deploy.tasks {
                try transaction.transition(
                    taskID: task,
                    from: [.merged, .deploying],
                    to: .deploying,
                    reason: "deploying \(deploy.commit.short) to \(deploy.environment)"
                )
            }
        }
    }

    /// Records the rollout's outcome; returns the report with its tag, or where the env ref was reset to.
    public func finished(
        _ deploy: DeploymentAgent.PreparedDeploy,
        _ report: DeploymentAgent.Report,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> DeploymentAgent.Report {
        var report = report
        let refs = EnvironmentRefs(repository: try Repository.open(at: repositoryPath), environment: deploy.environment)
        if report.succeeded {
            try recordSuccess(&report, refs: refs, hosts: deploy.hosts, actor: deploy.actor, reason: deploy.reason)
        } else {
            try recordFailure(&report, refs: refs, previous: deploy.previous, actor: deploy.actor, progress: progress)
        }
        return report
    }

    /// Tags the deploy, marks the environment live on the commit and its tasks deployed.
    private func recordSuccess(_ report: inout DeploymentAgent.Report, refs: EnvironmentRefs, hosts: [String], actor: String, reason: String) throws {
        let tag = try tagIfNew(refs, report: report, actor: actor, reason: reason)
        report.tag = tag
        let commit = report.commit
        try store.transaction { transaction in
            try transaction.setValue(commit, forKey: DeploymentAgent.liveKey(refs.environment))
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
                kind: .deploySucceeded,
                message: "\(refs.environment): \(commit.prefix(12)) live on \(hosts.joined(separator: ", "))" + (tag.map { " (\($0))" } ?? ""),
                data: ["env": refs.environment, "commit": commit, "actor": actor, "tag": tag ?? ""]
            )
        }
    }

    /// The hosts were rolled back: the commit is marked bad, the env ref goes back to what is live
    /// (unless someone moved it meanwhile), the tasks fail.
    private func recordFailure(
        _ report: inout DeploymentAgent.Report,
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
            try transaction.setValue(live?.hex, forKey: DeploymentAgent.liveKey(refs.environment))
            for task in tasks {
                try transaction.transition(taskID: task, from: [.deploying], to: .failed, reason: "deploy to \(refs.environment) failed: \(failure)")
            }
            try transaction.appendEvent(
                taskID: nil,
                kind: .deployFailed,
                message: "\(refs.environment): \(commit.short) rolled back: \(failure)",
                data: ["env": refs.environment, "commit": commit.hex, "actor": actor, "rolled_back_to": live?.hex ?? ""]
            )
        }
    }

    /// Tags the deploy unless the environment's latest tag already names this commit (a repeated
    /// job, a heal of drift).
    private func tagIfNew(_ refs: EnvironmentRefs, report: DeploymentAgent.Report, actor: String, reason: String) throws -> String? {
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
    static func tagMessage(_ report: DeploymentAgent.Report, actor: String, reason: String) -> String {
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
