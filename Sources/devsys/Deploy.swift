import Actions
import ArgumentParser
import ControlRepository
import Deploy
import Environments
import Foundation
import Git
import Hosts
import Pipeline
import Store

extension Devsys {
    struct DeployCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deploy",
            abstract: "Promote a commit to an environment and deploy it to the environment's hosts.",
            discussion: """
                Moves refs/heads/env/ENV to the commit (compare-and-swap: a concurrent push is never
                overwritten), then ships the app to every host of the environment: upload (only the
                changed files), switch all hosts at once, verify over HTTP that each host serves the
                new REVISION and the http acceptance checks of every task the commit brings pass.
                Success tags the deploy deploy/ENV/NNNN. A regression (wrong REVISION, a check
                failing, a 5xx) rolls every host back, marks the commit bad and resets the env ref
                (on a first deploy: no host keeps a current, the env ref is removed). An outage (no
                answer from a host or its web server) rolls back too but marks nothing: run the
                same deploy again once the hosts answer.

                  devsys deploy staging                  the trunk's head
                  devsys deploy production --rev 1a2b3c  a commit, tag or branch
                  devsys deploy staging --rev 1a2b3c --force   a commit marked bad, clearing the mark

                The deploy tag's Actor:, a bad mark and the audit log ('devsys audit') name you:
                --as, else your git identity. A deploy that stops before any host switched puts the
                env ref back.

                This is also how an environment with 'approval:' in devsys.yaml gets a deploy: it is
                never promoted automatically. A running controller deploys any env ref you push
                yourself, too: git push origin 1a2b3c:refs/heads/env/staging.
                """
        )

        @OptionGroup var options: ControllerOptions

        @OptionGroup var actor: ActorOptions

        @Argument(help: ArgumentHelp("The environment (a name under 'environments' in devsys.yaml).", valueName: "env"))
        var environment: String

        @Option(help: ArgumentHelp("What to deploy: a commit, tag or branch. Default: the trunk's head.", valueName: "rev"))
        var rev: String?

        @Flag(help: "Deploy a commit marked bad in this environment, and clear the mark.")
        var force = false

        @Flag(help: "Print the deploy report as JSON.")
        var json = false

        func run() async throws {
            let (control, plane) = try options.openControlPlane(creatingState: true)
            let handle = try await plane.deploy(environment: environment, revision: rev, force: force, by: actor.principal(control: control))
            try finish(try await plane.follow(handle, progress: printProgress), json: json)
        }
    }

    struct RollbackCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback",
            abstract: "Put an environment back on an earlier deploy.",
            discussion: """
                Goes from the live deploy to the one before it in the environment's deploy history
                (its tags in order), skipping bad deploys and those of the live commit. Marks the
                commit it leaves as bad (auto-deploy never ships it again), resets refs/heads/env/ENV
                to that tag's commit and deploys it. A revision still on the hosts is switched back
                without uploading anything. Tasks whose change is no longer live become merged
                again, saying so.

                  devsys rollback production                      the deploy before the live one
                  devsys rollback production --steps 2            two deploys back
                  devsys rollback production --to deploy/production/0003

                The bad mark, the deploy tag and the audit log ('devsys audit') name you: --as, else
                your git identity.

                With plain git, the same: git push --force origin
                deploy/production/0003^{commit}:refs/heads/env/production (a running controller
                carries it out within one reconcile as the same rollback: event, bad mark, tag), so
                a devsys rollback after it goes further back.
                """
        )

        @OptionGroup var options: ControllerOptions

        @OptionGroup var actor: ActorOptions

        @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
        var environment: String

        @Option(help: ArgumentHelp("The deploy tag to go back to (deploy/ENV/NNNN, or just NNNN).", valueName: "tag"))
        var to: String?

        @Option(help: ArgumentHelp("How many earlier deploys to go back (skipping bad ones). Default: 1.", valueName: "n"))
        var steps: Int?

        @Flag(help: "Print the deploy report as JSON.")
        var json = false

        func validate() throws {
            if to != nil, steps != nil { throw ValidationError("give --to or --steps, not both") }
            if let steps, steps < 1 { throw ValidationError("--steps must be 1 or more") }
        }

        func run() async throws {
            let (control, plane) = try options.openControlPlane(creatingState: true)
            let destination: ControlPlane.RollbackTarget = to.map { .tag($0) } ?? .stepsBack(steps ?? 1)
            let handle = try await plane.rollback(environment: environment, to: destination, by: actor.principal(control: control))
            try finish(try await plane.follow(handle, progress: printProgress), json: json)
        }
    }

    struct Revisions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an environment's deploys (its deploy tags) and which one is live.",
            discussion: """
                One line per deploy tag deploy/ENV/NNNN, newest first: the commit, when, who, the
                tasks it shipped, and its status — live, bad (rolled back or failed), or nothing.
                With --hosts, each host is asked what it serves and which revisions it keeps.

                  devsys revisions staging
                  devsys revisions production --hosts --json
                """
        )

        @OptionGroup var options: ControllerOptions

        @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
        var environment: String

        @Flag(help: "Also read each host's live revision and the revisions it keeps.")
        var hosts = false

        @Flag(help: "Print the revisions as JSON.")
        var json = false

        func run() async throws {
            let (control, plane) = try options.openControlPlane()
            let view = try await plane.revisions(environment: environment, askHosts: hosts, by: localPrincipal(control: control))
            if json { return try printJSON(view) }
            print("\(view.ref): \(view.desired ?? "not set (nothing promoted yet)")")
            if view.desired != view.live {
                print("hosts were last brought to: \(view.live ?? "nothing") — a deploy is pending or failed ('devsys tasks', 'devsys serve')")
            }
            if view.revisions.isEmpty {
                print("no deploys yet: devsys deploy \(environment)")
            } else {
                var table = TextTable(["TAG", "COMMIT", "DATE", "ACTOR", "TASKS", "STATUS"])
                for row in view.revisions {
                    table.add([
                        row.tag, shortHex(row.commit), row.date.map(localTime) ?? "-", row.actor ?? "-",
                        row.tasks.isEmpty ? "-" : row.tasks.joined(separator: ","),
                        row.status
                            + (row.bad.map {
                                " (by " + oneLine($0.components(separatedBy: " by ").dropFirst().joined(separator: " by "), limit: 70) + ")"
                            } ?? ""),
                    ])
                }
                print(table.text, terminator: "")
            }
            for host in view.hosts ?? [] {
                if let error = host.error {
                    print("\(host.host)/\(host.app): cannot read: \(error)")
                } else {
                    print("\(host.host)/\(host.app): serves \(host.live ?? "nothing"); keeps \(host.revisions.joined(separator: ", "))")
                }
            }
        }
    }
}

/// Prints the report (as JSON with `json`); a failed deploy exits 1.
func finish(_ report: DeploymentAgent.Report, json: Bool) throws {
    if json { try printJSON(report) } else { print(DeployReportText(report).text, terminator: "") }
    guard report.succeeded else { throw ExitCode.failure }
}

/// A deploy report for people.
struct DeployReportText {
    var text: String

    init(_ report: DeploymentAgent.Report) {
        var lines: [String] = []
        let ref = ControlRefs.environment(report.environment)
        if report.succeeded {
            lines.append("deployed \(shortHex(report.commit)) to \(report.environment)" + (report.tag.map { " as \($0)" } ?? ""))
            if let to = report.rollbackTo, let from = report.rolledBackFrom {
                lines.append("a rollback to \(to): \(shortHex(from)) is marked bad in \(report.environment)")
            }
            if !report.tasksRolledBack.isEmpty {
                lines.append("no longer live (back to merged): \(report.tasksRolledBack.joined(separator: ", "))")
            }
        } else {
            lines.append("deploy of \(shortHex(report.commit)) to \(report.environment) FAILED: \(report.rollout.failure ?? "")")
            if report.rollout.nothingToRollBackTo {
                lines.append(
                    "nothing to roll back to: no host serves a revision now (as before the first deploy); "
                        + "\(shortHex(report.commit)) is marked bad in \(report.environment)"
                )
                if report.refRemoved { lines.append("\(ref) is removed again (it named nothing before)") }
            } else {
                lines.append("every host was rolled back; \(shortHex(report.commit)) is marked bad in \(report.environment)")
            }
            if let reset = report.resetTo { lines.append("\(ref) is back on \(shortHex(reset))") }
        }
        if !report.tasks.isEmpty { lines.append("tasks: \(report.tasks.joined(separator: ", "))") }
        if !report.tasksChecked.isEmpty { lines.append("acceptance checks of: \(report.tasksChecked.joined(separator: ", "))") }
        for host in report.rollout.hosts {
            var line = "  \(host.host)/\(host.app): \(host.revision)"
            if let bytes = host.bytesSent, let entries = host.entriesSent {
                line += " (\(entries) entries, \(bytes) bytes\(host.incrementalFrom.map { ", incremental from \($0)" } ?? ""))"
            } else {
                line += " (already on the host)"
            }
            if let verification = host.verification { line += "; \(verification.summary)" } else if let note = host.note { line += "; \(note)" }
            if host.rolledBack { line += "; rolled back to \(host.previousRevision ?? "-")" }
            lines.append(line)
        }
        text = lines.joined(separator: "\n") + "\n"
    }
}
