import ArgumentParser
import Foundation
import Pipeline
import Store

extension Devsys {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the audit log: who did, or was refused, what, and how it ended.",
            discussion: """
                One line per action a person (or the controller) took through devsys, newest first:
                when, who (the --as name or git identity, with its role), the action (deploy,
                rollback, pr.approve, pr.reject, pr.merge, task.retry, task.cancel), its target and
                the outcome: ok, refused: WHY, or failed: WHY. The log is append-only. Commands run
                from the CLI act with the admin role.

                  devsys audit
                  devsys audit --limit 20 --json
                """
        )

        @OptionGroup var options: ControllerOptions

        @Option(help: ArgumentHelp("Show at most this many entries.", valueName: "n"))
        var limit = 50

        @Flag(help: "Print the entries as JSON.")
        var json = false

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
        }

        struct Row: Encodable {
            var at: String
            var actor: String
            var role: String
            var action: String
            var target: String
            var outcome: String
        }

        func run() throws {
            let (_, _, store) = try options.openStore()
            let entries = try store.audit(limit: limit)
            if json {
                return try printJSON(
                    entries.map { Row(at: isoTime($0.at), actor: $0.actor, role: $0.role, action: $0.action, target: $0.target, outcome: $0.outcome) }
                )
            }
            guard !entries.isEmpty else { return print("the audit log is empty") }
            var table = TextTable(["TIME", "ACTOR", "ROLE", "ACTION", "TARGET", "OUTCOME"])
            for entry in entries {
                table.add([localTime(entry.at), entry.actor, entry.role, entry.action, entry.target, oneLine(entry.outcome, limit: 100)])
            }
            print(table.text, terminator: "")
        }
    }
}
