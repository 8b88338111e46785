import Actions
import ArgumentParser
import ControlRepository
import Foundation
import Git
import Pipeline
import Store

extension Devsys {
    struct TaskCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "task",
            abstract: "Show one task, start a failed one again, or cancel one.",
            subcommands: [Show.self, Retry.self, Cancel.self]
        )

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a task: its state, branch, last test report, reviews and history.",
                discussion: """
                    Reads the store for the state and history, and git for the rest: the head of
                    task/<id>, the test report noted on it (refs/notes/devsys/tests) and the review
                    verdicts (refs/notes/devsys/reviews).

                      devsys task show 001-about-page
                      devsys task show 001-about-page --json

                    Exit status: 0 ok, 1 no such task.
                    """
            )

            @OptionGroup var options: ControllerOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            @Flag(help: "Print the task as JSON.")
            var json = false

            func run() async throws {
                let (control, plane) = try options.openControlPlane()
                let detail = try await plane.task(id, by: localPrincipal(control: control))
                if json { return try printJSON(detail) }
                print(TaskDetailText(detail).text, terminator: "")
            }
        }

        struct Retry: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Start a failed or rejected task again.",
                discussion: """
                    The task starts again from the step that failed:
                      coding   (attempts used up, rejected) — back to queued with a fresh round of
                               retry_policy.max_attempts; the agent starts from the head of
                               task/<id>, with the reason the task ended as feedback;
                      testing  (the test job gave up) — the branch head is tested again;
                      merge    (the merge job gave up) — back to review, merged again;
                      deploy   (the deploy failed or gave up) — deployed again, not coded again; the
                               env ref moves to the trunk if the change is no longer on it.
                    A running controller picks it up at once; otherwise run 'devsys run --until-idle'.

                      devsys task retry 002-login

                    A cancelled task starts again when its spec changes on the trunk (or, deleted, comes back).
                    Exit status: 0 queued, 1 the task is not failed or rejected, or is unknown.
                    """
            )

            @OptionGroup var options: ControllerOptions

            @OptionGroup var actor: ActorOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            func run() async throws {
                let (control, plane) = try options.openControlPlane()
                let retried = try await plane.retry(taskID: id, by: actor.principal(control: control))
                let (record, step, job) = (retried.task, retried.step, retried.job)
                switch step {
                case .coding:
                    let start = record.branchHead.map { "task/\(id) at \(shortHex($0))" } ?? "the trunk"
                    print("task \(id) queued again: attempt \(record.attempt + 1) of \(record.maxAttempts) starts from \(start) (job \(job.id))")
                case .testing:
                    print("task \(id) is tested again at \(shortHex(job.key.inputCommit)) (job \(job.id))")
                case .merge:
                    print("task \(id) is back in review at \(shortHex(job.key.inputCommit)); its merge runs again (job \(job.id))")
                case .deploy:
                    print("task \(id) is deployed again: \(job.key.taskID) at \(shortHex(job.key.inputCommit)) (job \(job.id))")
                }
                _ = NotifySocket.send(to: plane.state.notifySocket)
            }
        }

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Cancel a task that has not reached the trunk yet.",
                discussion: """
                    The task becomes cancelled with your reason (a task.cancelled event records it);
                    jobs queued for it end without running their step. Its branch task/<id> and its
                    notes stay in git. A change to specs/<id>/task.yaml on the trunk starts it again.
                    A merged or deployed task cannot be cancelled: revert its merge with git.

                      devsys task cancel 002-login --reason "superseded by 004-sso"

                    Exit status: 0 cancelled, 1 the task is unknown, merged or later, or already cancelled.
                    """
            )

            @OptionGroup var options: ControllerOptions

            @OptionGroup var actor: ActorOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            @Option(help: ArgumentHelp("Why it is cancelled (kept with the task and in its history).", valueName: "text"))
            var reason: String?

            func run() async throws {
                let (control, plane) = try options.openControlPlane()
                let record = try await plane.cancel(taskID: id, reason: reason, by: actor.principal(control: control))
                print("task \(id) cancelled: \(record.reason ?? "")")
                _ = NotifySocket.send(to: plane.state.notifySocket)
            }
        }
    }
}

/// What `devsys task show` prints of a task's detail.
struct TaskDetailText {
    let detail: TaskDetail

    init(_ detail: TaskDetail) {
        self.detail = detail
    }

    var text: String {
        let task = detail.task
        var out = "task \(task.id): \(task.title)" + (task.app.isEmpty ? "" : " (app \(task.app))") + "\n"
        var fields = TextTable()
        fields.add(["  state", task.state])
        fields.add(["  attempt", "\(task.attempt) of \(task.maxAttempts)"])
        if let head = detail.head {
            let ahead = detail.commitsAheadOfTrunk.map { ", \($0) commit\($0 == 1 ? "" : "s") ahead of \(detail.trunk ?? "the trunk")" } ?? ""
            fields.add(["  branch", "task/\(task.id) at \(shortHex(head))\(ahead)"])
        } else {
            fields.add(["  branch", "task/\(task.id) does not exist yet"])
        }
        fields.add(["  tests", testsLine])
        fields.add(["  reviews", detail.reviews.isEmpty ? "none" : detail.reviews[0]])
        for verdict in detail.reviews.dropFirst() { fields.add(["", verdict]) }
        if let reason = task.reason { fields.add(["  reason", oneLine(reason, limit: 400)]) }
        out += fields.text
        out += "history:\n"
        var history = TextTable()
        for event in detail.events { history.add(["  \(localTime(event.at))", event.kind, oneLine(event.message, limit: 160)]) }
        out += history.text
        return out
    }

    private var testsLine: String {
        if let problem = detail.testsProblem { return "unreadable: \(problem)" }
        guard let tests = detail.tests else {
            return detail.head.map { "no report for \(shortHex($0)) yet" } ?? "not run yet"
        }
        return (tests.passed ? "passed" : "FAILED") + " at \(shortHex(tests.commit)): \(tests.summary) (devsys report \(detail.task.id))"
    }
}
