import ControlRepository
import Foundation
import Git
import Store

/// Records what a deploy did, in git and the store (DESIGN §5), as the pipeline does for the
/// coding and testing agents' results: before the rollout the tasks it ships become `deploying`
/// (and a rollback marks the commit it leaves bad); on success an annotated tag
/// `deploy/<env>/<NNNN>` (tasks, actor, hosts, verification), the environment live on the commit
/// (`env.<env>.live`), the tasks `deployed` and a `deploy.succeeded` event — for a rollback a
/// `rollback` event, and the tasks it took off back to `merged`; on a regression the commit
/// marked bad, the env ref reset to what is live again (compare-and-swap, so a newer push wins;
/// removed when nothing was live), the tasks `failed`, a `deploy.failed` event. An infrastructure
/// failure records only what the hosts serve now: the caller retries or reports it.
public struct DeployRecorder: Sendable {
    public let repositoryPath: String
    public let store: Store

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// The tasks the deploy ships become `deploying`; a rollback marks the commit it leaves bad
    /// (unless it is already), so auto-deploy never ships it again.
    public func started(_ deploy: DeploymentAgent.PreparedDeploy) throws {
        if let rollback = deploy.rollback {
            let refs = EnvironmentRefs(repository: try Repository.open(at: repositoryPath), environment: deploy.environment)
            if try refs.badReason(rollback.leaving) == nil {
                try refs.markBad(rollback.leaving, by: deploy.actor, reason: "rolled back to \(rollback.to.name)")
            }
        }
        guard !deploy.tasks.isEmpty else { return }
        try store.transaction { transaction in
            for task in deploy.tasks {
                try transaction.transition(
                    taskID: task,
                    from: [.merged, .deploying, .failed],
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
        report.tasksChecked = deploy.tasksChecked
        let refs = EnvironmentRefs(repository: try Repository.open(at: repositoryPath), environment: deploy.environment)
        if report.succeeded {
            report.rollbackTo = deploy.rollback?.to.name
            report.rolledBackFrom = deploy.rollback?.leaving.hex
            try recordSuccess(&report, refs: refs, deploy: deploy)
        } else if report.rollout.failureKind == .infrastructure {
            // What the hosts serve now: what they served before, or nothing.
            let live = report.rollout.nothingToRollBackTo ? nil : deploy.previous
            try store.setValue(live?.hex, forKey: DeploymentAgent.liveKey(refs.environment))
        } else {
            try recordFailure(&report, refs: refs, previous: deploy.previous, actor: deploy.actor, progress: progress)
        }
        return report
    }

    /// Tags the deploy, marks the environment live on the commit and its tasks deployed; a
    /// rollback's tasks taken off go back to `merged`, saying so.
    private func recordSuccess(_ report: inout DeploymentAgent.Report, refs: EnvironmentRefs, deploy: DeploymentAgent.PreparedDeploy) throws {
        let actor = deploy.actor
        let tag = try tagIfNew(refs, report: report, actor: actor, reason: deploy.reason, rollback: deploy.rollback)
        report.tag = tag
        let commit = report.commit
        let hosts = deploy.hosts
        let takenOff = deploy.rollback?.tasksTakenOff ?? []
        report.tasksRolledBack = takenOff
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
            if let rollback = deploy.rollback {
                for task in takenOff {
                    try transaction.transition(
                        taskID: task,
                        from: [.deployed],
                        to: .merged,
                        reason: "rolled back: its change is no longer live in \(refs.environment) (back to \(rollback.to.name) by \(actor)); "
                            + "the next good commit that holds it deploys it again"
                    )
                }
                try transaction.appendEvent(
                    taskID: nil,
                    kind: .rollback,
                    message:
                        "\(refs.environment): rolled back from \(rollback.leaving.short) to \(rollback.to.name) (\(commit.prefix(12))) by \(actor)"
                        + (tag.map { " as \($0)" } ?? "") + "; \(rollback.leaving.short) is marked bad"
                        + (takenOff.isEmpty ? "" : "; no longer live: \(takenOff.joined(separator: ", "))"),
                    data: [
                        "env": refs.environment, "commit": commit, "from": rollback.leaving.hex, "to": rollback.to.name, "actor": actor,
                        "tag": tag ?? "", "tasks": takenOff.joined(separator: ","),
                    ]
                )
            } else {
                try transaction.appendEvent(
                    taskID: nil,
                    kind: .deploySucceeded,
                    message: "\(refs.environment): \(commit.prefix(12)) live on \(hosts.joined(separator: ", "))" + (tag.map { " (\($0))" } ?? ""),
                    data: ["env": refs.environment, "commit": commit, "actor": actor, "tag": tag ?? ""]
                )
            }
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
        let live =
            report.rollout.nothingToRollBackTo
            ? nil : report.rollout.hosts.first { $0.rolledBack }?.previousCommit.flatMap(ObjectID.init(hex:)) ?? previous
        if let live, live != commit {
            do {
                try refs.move(to: live, expecting: commit, message: "devsys: \(commit.short) failed on \(refs.environment); back to \(live.short)")
                report.resetTo = live.hex
            } catch let error as GitError where error.isLostRace {
                progress("\(refs.ref) moved meanwhile; left as it is")
            }
        } else if live == nil {
            // A failed first deploy: the environment goes back to having no desired commit.
            do {
                if try refs.desired() == commit {
                    try refs.repository.deleteReference(refs.ref, expecting: commit)
                    report.refRemoved = true
                }
            } catch let error as GitError where error.isLostRace {
                progress("\(refs.ref) moved meanwhile; left as it is")
            }
        }
        let tasks = report.tasks
        let outcome = live.map { "rolled back to \($0.short)" } ?? "nothing to roll back to; no host serves it"
        try store.transaction { transaction in
            try transaction.setValue(live?.hex, forKey: DeploymentAgent.liveKey(refs.environment))
            for task in tasks {
                try transaction.transition(taskID: task, from: [.deploying], to: .failed, reason: "deploy to \(refs.environment) failed: \(failure)")
            }
            try transaction.appendEvent(
                taskID: nil,
                kind: .deployFailed,
                message: "\(refs.environment): \(commit.short) failed and is marked bad; \(outcome): \(failure)",
                data: ["env": refs.environment, "commit": commit.hex, "actor": actor, "rolled_back_to": live?.hex ?? ""]
            )
        }
    }

    /// Tags the deploy unless the environment's latest tag already names this commit (a repeated
    /// job, a heal of drift).
    private func tagIfNew(
        _ refs: EnvironmentRefs,
        report: DeploymentAgent.Report,
        actor: String,
        reason: String,
        rollback: DeploymentAgent.Rollback?
    ) throws -> String? {
        if let last = try refs.tags().last, last.commit == report.commit { return last.name }
        let name = refs.tagName(sequence: report.sequence)
        guard let commit = ObjectID(hex: report.commit) else { return nil }
        try refs.repository.createAnnotatedTag(
            named: name,
            target: commit,
            tagger: Signature(actor: actor),
            message: Self.tagMessage(report, actor: actor, reason: reason, rollback: rollback)
        )
        return name
    }

    /// The deploy tag's message: a subject, `Key: value` lines, then per host its verification
    /// requests (status, latency, a body snippet), what the app's commands printed and the lines
    /// the PHP error log gained during verification.
    static func tagMessage(_ report: DeploymentAgent.Report, actor: String, reason: String, rollback: DeploymentAgent.Rollback? = nil) -> String {
        var lines = [
            "Deploy \(report.commit.prefix(12)) to \(report.environment)",
            "",
            "Environment: \(report.environment)",
            "Commit: \(report.commit)",
            "Actor: \(actor)",
            "Reason: \(reason)",
            "Tasks: \(report.tasks.isEmpty ? "none" : report.tasks.joined(separator: ", "))",
            "Checked: \(report.tasksChecked.isEmpty ? "none" : report.tasksChecked.joined(separator: ", "))",
            "Hosts: \(report.rollout.hosts.map(\.host).joined(separator: ", "))",
            "Revision: \(report.rollout.hosts.first?.revision ?? "")",
        ]
        if let rollback {
            lines.append("Rollback-To: \(rollback.to.name)")
            lines.append("Rollback-From: \(rollback.leaving.hex)")
        }
        lines += ["", "Verification:"]
        for host in report.rollout.hosts {
            if let verification = host.verification {
                lines.append("  \(host.host)/\(host.app): \(verification.summary)")
                for probe in [verification.revision] + verification.checks {
                    let snippet = probe.bodySnippet.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(80)
                    lines.append(
                        "    GET \(probe.path) \(probe.status.map(String.init) ?? "no response") \(probe.latencyMs) ms \"\(snippet)\""
                            + (probe.failure.map { " — \($0)" } ?? "")
                    )
                }
            } else {
                lines.append("  \(host.host)/\(host.app): \(host.note ?? "not verified")")
            }
            if let errors = host.phpErrorLines {
                lines.append("    PHP error log: \(errors.isEmpty ? "no new lines" : "\(errors.count) new line(s)")")
                lines += errors.suffix(50).map { "      \($0.prefix(300))" }
            }
            for output in host.commands {
                lines.append("    \(output.step): \(output.commands.joined(separator: "; "))")
                let printed = output.output.split(whereSeparator: \.isNewline).suffix(20)
                lines += printed.map { "      \($0.prefix(300))" }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
