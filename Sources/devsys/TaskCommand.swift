import ArgumentParser
import ControlRepository
import Foundation
import Git
import Pipeline
import Store

extension Devsys {
    struct TaskCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "task",
            abstract: "Show one task, start a failed one again, or cancel one.",
            subcommands: [Show.self, Retry.self, Cancel.self]
        )

        struct Show: ParsableCommand {
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

            func run() throws {
                let (control, state, store) = try options.openStore()
                let task = try findTask(id, in: store)
                let view = try TaskView(task, control: control, state: state, store: store)
                if json { return try printJSON(view.output) }
                print(view.text, terminator: "")
            }
        }

        struct Retry: ParsableCommand {
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

            func run() throws {
                let (control, state, store) = try options.openStore()
                let actions = TaskActions(repositoryPath: options.repositoryPath(of: control), store: store)
                let (record, step, job) = try failingAsCommand { try actions.retry(taskID: id, by: actor.principal(control: control)) }
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
                _ = NotifySocket.send(to: state.notifySocket)
            }
        }

        struct Cancel: ParsableCommand {
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

            func run() throws {
                let (control, state, store) = try options.openStore()
                let actions = TaskActions(repositoryPath: options.repositoryPath(of: control), store: store)
                let record = try failingAsCommand { try actions.cancel(taskID: id, reason: reason, by: actor.principal(control: control)) }
                print("task \(id) cancelled: \(record.reason ?? "")")
                _ = NotifySocket.send(to: state.notifySocket)
            }
        }
    }
}

/// The task `id`, or the failure every command reports for an unknown id.
func findTask(_ id: String, in store: Store) throws -> TaskRecord {
    guard let task = try store.task(id: id) else { throw CommandFailure("no task \(id); 'devsys tasks' lists them") }
    return task
}

/// What `devsys task show` shows: the store's record and history, and what git says about the branch.
struct TaskView {
    let task: TaskRecord
    let trunk: String?
    let head: ObjectID?
    let commitsAhead: Int?
    let report: Result<StoredTestReport?, Error>
    let verdicts: [String]
    let events: [Event]

    init(_ task: TaskRecord, control: ControlRepository, state: StateDirectory, store: Store) throws {
        self.task = task
        let repository = control.repository
        let trunkCommit = try? control.trunkCommit()
        trunk = trunkCommit?.branch
        head = try repository.reference(named: ControlRefs.taskBranch(task.id)) ?? task.branchHead.flatMap(ObjectID.init(hex:))
        if let head, let trunkCommit {
            commitsAhead = try? commitsOnBranch(head, notOn: trunkCommit.commit, in: repository)
        } else {
            commitsAhead = nil
        }
        if let head {
            report = Result { try StoredTestReport.latest(for: head, in: repository, reportsFolder: state.reportsFolder(taskID: task.id)) }
            verdicts = try repository.note(on: head, notesRef: Reviews.notesRef)?.split(separator: "\n").map(String.init) ?? []
        } else {
            report = .success(nil)
            verdicts = []
        }
        events = try store.events(taskID: task.id, limit: 500)
    }

    var text: String {
        var out = "task \(task.id): \(task.title)" + (task.app.isEmpty ? "" : " (app \(task.app))") + "\n"
        var fields = TextTable()
        fields.add(["  state", task.state.rawValue])
        fields.add(["  attempt", "\(task.attempt) of \(task.maxAttempts)"])
        if let head {
            let ahead = commitsAhead.map { ", \($0) commit\($0 == 1 ? "" : "s") ahead of \(trunk ?? "the trunk")" } ?? ""
            fields.add(["  branch", "task/\(task.id) at \(shortHex(head.hex))\(ahead)"])
        } else {
            fields.add(["  branch", "task/\(task.id) does not exist yet"])
        }
        fields.add(["  tests", testsLine])
        fields.add(["  reviews", verdicts.isEmpty ? "none" : verdicts[0]])
        for verdict in verdicts.dropFirst() { fields.add(["", verdict]) }
        if let reason = task.reason { fields.add(["  reason", oneLine(reason, limit: 400)]) }
        out += fields.text
        out += "history:\n"
        var history = TextTable()
        for event in events { history.add(["  \(localTime(event.at))", event.kind, oneLine(event.message, limit: 160)]) }
        out += history.text
        return out
    }

    private var testsLine: String {
        switch report {
        case .success(let report?):
            return (report.passed ? "passed" : "FAILED") + " at \(shortHex(report.commit.hex)): \(report.summary) (devsys report \(task.id))"
        case .success(nil):
            return head == nil ? "not run yet" : "no report for \(shortHex(head!.hex)) yet"
        case .failure(let error):
            return "unreadable: \(error)"
        }
    }

    /// `devsys task show --json`: the fields of `devsys tasks --json`, then what git says.
    struct Output: Encodable {
        struct Tests: Encodable {
            var commit: String
            var source: String
            var passed: Bool
            var summary: String
            var tests: Int
            var failures: Int
            var errors: Int
            var skipped: Int
        }

        struct EventOutput: Encodable {
            var at: String
            var kind: String
            var message: String
            var data: [String: String]
        }

        var task: TaskOutput
        var commitsAheadOfTrunk: Int?
        var tests: Tests?
        var testsProblem: String?
        var reviews: [String]
        var approved: Bool
        var events: [EventOutput]

        enum CodingKeys: String, CodingKey {
            case commitsAheadOfTrunk, tests, testsProblem, reviews, approved, events
        }

        func encode(to encoder: Encoder) throws {
            try task.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(commitsAheadOfTrunk, forKey: .commitsAheadOfTrunk)
            try container.encodeIfPresent(tests, forKey: .tests)
            try container.encodeIfPresent(testsProblem, forKey: .testsProblem)
            try container.encode(reviews, forKey: .reviews)
            try container.encode(approved, forKey: .approved)
            try container.encode(events, forKey: .events)
        }
    }

    var output: Output {
        var tests: Output.Tests?
        var problem: String?
        switch report {
        case .success(let report?):
            tests = Output.Tests(
                commit: report.commit.hex,
                source: report.source.rawValue,
                passed: report.passed,
                summary: report.summary,
                tests: report.tests,
                failures: report.failures,
                errors: report.errors,
                skipped: report.skipped
            )
        case .success(nil): break
        case .failure(let error): problem = "\(error)"
        }
        return Output(
            task: TaskOutput(head.map { task.withBranchHead($0.hex) } ?? task),
            commitsAheadOfTrunk: commitsAhead,
            tests: tests,
            testsProblem: problem,
            reviews: verdicts,
            approved: verdicts.contains { $0.hasPrefix("Approved-by:") },
            events: events.map { Output.EventOutput(at: isoTime($0.at), kind: $0.kind, message: $0.message, data: $0.data) }
        )
    }
}

extension TaskRecord {
    /// The record with the branch head git has now (it may have moved since the store saw it).
    func withBranchHead(_ hex: String) -> TaskRecord {
        var record = self
        record.branchHead = hex
        return record
    }
}

/// How many commits `head` has that `trunk` does not (like `git rev-list --count trunk..head`),
/// counted down to their merge base (at most 1000).
func commitsOnBranch(_ head: ObjectID, notOn trunk: ObjectID, in repository: Repository) throws -> Int {
    let base = try repository.mergeBase(head, trunk)
    var count = 0
    for commit in try repository.log(from: head, limit: 1000) {
        if commit.id == base { break }
        if try !repository.isAncestor(commit.id, of: trunk) { count += 1 }
    }
    return count
}
