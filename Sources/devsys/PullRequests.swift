import Actions
import ArgumentParser
import ControlRepository
import Foundation
import Git
import Pipeline
import Specs
import Store

extension Devsys {
    struct PullRequests: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pr",
            abstract: "Review task branches like pull requests: list, show, approve, merge, reject.",
            discussion: """
                A task whose tests passed waits in review; its branch task/<id> is the pull request.
                Verdicts are kept in git, as lines of the note on the reviewed head in
                refs/notes/devsys/reviews (git notes --ref=devsys/reviews show task/<id>).

                  devsys pr list                              what waits for review
                  devsys pr show 001-about-page               changed files, diff, tests, verdicts
                  devsys pr approve 001-about-page
                  devsys pr merge 001-about-page              a merge commit on the trunk
                  devsys pr reject 001-about-page --reason "the page needs a title"

                Plain git works too: merging task/<id> into the trunk and pushing marks the task merged.
                """,
            subcommands: [List.self, Show.self, Approve.self, Merge.self, Reject.self]
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List the tasks waiting for review.",
                discussion: """
                    One line per task in review: its branch head, its test summary and whether it
                    is approved.

                      devsys pr list
                      devsys pr list --json
                    """
            )

            @OptionGroup var options: ControllerOptions

            @Flag(help: "Print the list as JSON.")
            var json = false

            func run() async throws {
                let (control, plane) = try options.openControlPlane()
                let rows = try await plane.pullRequests(by: localPrincipal(control: control))
                if json { return try printJSON(rows) }
                guard !rows.isEmpty else { return print("no task waits for review") }
                var table = TextTable(["ID", "HEAD", "TESTS", "APPROVED", "TITLE"])
                for row in rows {
                    table.add([
                        row.id, row.head.map(shortHex) ?? "-", row.tests.map { oneLine($0, limit: 50) } ?? "no report",
                        row.approved ? "yes" : "no", row.title,
                    ])
                }
                print(table.text, terminator: "")
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a task branch against the trunk: files, diff, tests and verdicts.",
                discussion: """
                    Compares task/<id> with the commit it shares with the trunk (like
                    git diff main...task/<id>). Text files are shown as a unified diff, cut after
                    --max-lines lines; binary and large files are named only.

                      devsys pr show 001-about-page
                      devsys pr show 001-about-page --json
                    """
            )

            @OptionGroup var options: ControllerOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            @Option(help: ArgumentHelp("Show at most this many lines of diff.", valueName: "n"))
            var maxLines = 2000

            @Flag(help: "Print the pull request as JSON (the diff as one string).")
            var json = false

            func validate() throws {
                guard maxLines > 0 else { throw ValidationError("--max-lines must be positive") }
            }

            func run() async throws {
                let (control, plane) = try options.openControlPlane()
                let view = try await plane.pullRequest(taskID: id, by: localPrincipal(control: control))
                let task = view.task
                let hint = "git diff \(view.trunk)...task/\(id)"
                if json { return try printJSON(view.output(maxDiffLines: maxLines, hint: hint)) }
                let diff = PullRequestView.cut(view.unifiedDiff, maxLines: maxLines, hint: hint)
                var out = "task/\(id) → \(view.trunk): \(task.title)\n"
                out +=
                    "  state \(task.state.rawValue), head \(shortHex(view.head.hex)), base \(view.base.map { shortHex($0.hex) } ?? "none (unrelated histories)")\n"
                out += "  tests    " + (view.tests.map { "\($0.passed ? "passed" : "FAILED"): \($0.summary)" } ?? "no report") + "\n"
                out +=
                    "  reviews  "
                    + (view.verdicts.isEmpty ? "none yet (devsys pr approve \(id))" : view.verdicts.joined(separator: "\n           ")) + "\n\n"
                if view.files.isEmpty {
                    out += "no changes against \(view.trunk)\n"
                } else {
                    var stat = TextTable()
                    for file in view.files {
                        stat.add([
                            " \(Self.letter(file.status))", file.oldPath.map { "\($0) → \(file.path)" } ?? file.path,
                            file.isBinary ? "binary" : "+\(file.added) -\(file.deleted)",
                        ])
                    }
                    out += stat.text
                    out += " \(view.files.count) file\(view.files.count == 1 ? "" : "s") changed\n\n" + diff
                }
                print(out, terminator: "")
            }

            /// `git diff --name-status`'s letter for a change.
            static func letter(_ status: FilePatch.Status) -> String {
                switch status {
                case .added: "A"
                case .modified: "M"
                case .deleted: "D"
                case .renamed: "R"
                case .copied: "C"
                case .typeChanged: "T"
                }
            }
        }

        struct Approve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Approve a task's tested branch head.",
                discussion: """
                    Adds 'Approved-by: NAME <EMAIL> at TIME' to the note on the head in
                    refs/notes/devsys/reviews. NAME is --as, else your git identity (user.name and
                    user.email, as git resolves them). An approval is of that head: a new commit on
                    the branch needs a new one.

                      devsys pr approve 001-about-page
                      devsys pr approve 001-about-page --as "Grace Hopper <grace@example.com>"
                    """
            )

            @OptionGroup var options: ControllerOptions

            @OptionGroup var actor: ActorOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            func run() async throws {
                let (control, plane) = try options.openControlPlane()
                let reviewer = actor.principal(control: control)
                let head = try await plane.approve(taskID: id, by: reviewer)
                print("approved task/\(id) at \(shortHex(head.hex)) as \(reviewer.name); merge it with: devsys pr merge \(id)")
            }
        }

        struct Merge: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Merge a task branch into the trunk.",
                discussion: """
                    Makes a merge commit of task/<id> on the trunk (moved with compare-and-swap, so a
                    concurrent push is never lost). With 'review: required' in the spec the branch's
                    current head needs an approval first; an approval of an earlier head does not
                    count. On conflicts nothing is merged: the task goes back to coding with the
                    conflicting paths as feedback, and this exits 1.

                      devsys pr approve 001-about-page && devsys pr merge 001-about-page
                    """
            )

            @OptionGroup var options: ControllerOptions

            @OptionGroup var actor: ActorOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            func run() async throws {
                let (control, plane) = try options.openControlPlane()
                let outcome = try await plane.merge(taskID: id, by: actor.principal(control: control))
                _ = NotifySocket.send(to: plane.state.notifySocket)
                switch outcome {
                case .merged(let commit):
                    print("merged task/\(id) into \(try control.trunkCommit().branch): \(commit.hex)")
                case .conflicts(let paths):
                    throw CommandFailure(
                        "task/\(id) conflicts with the trunk in \(paths.joined(separator: ", ")); nothing was merged, the task went back to coding with the conflicts as feedback"
                    )
                }
            }
        }

        struct Reject: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Reject a task's branch; the task ends rejected with your reason.",
                discussion: """
                    Adds 'Rejected-by: NAME <EMAIL> at TIME: REASON' to the note on the head in
                    refs/notes/devsys/reviews. 'devsys task retry ID' starts the task again with the
                    reason as the coding agent's feedback.

                      devsys pr reject 001-about-page --reason "the page needs a title"
                    """
            )

            @OptionGroup var options: ControllerOptions

            @OptionGroup var actor: ActorOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            @Option(
                help: ArgumentHelp("Why the branch is rejected (required; kept in git and shown to the coding agent on retry).", valueName: "text")
            )
            var reason: String?

            func validate() throws {
                guard let reason, !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw ValidationError("reject needs --reason TEXT: say what is wrong, for the record and for a retry")
                }
            }

            func run() async throws {
                let (control, plane) = try options.openControlPlane()
                let reviewer = actor.principal(control: control)
                let head = try await plane.reject(taskID: id, reason: reason ?? "", by: reviewer)
                print("rejected task/\(id) at \(head.short) as \(reviewer.name)")
            }
        }
    }
}
