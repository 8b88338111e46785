import Foundation
import Testing

/// `tasks`, `task show|retry`, `report`, `pr …` and `reindex`, from a user's side: a blog made by
/// `devsys init`, driven by `devsys run --until-idle`, looked at and reviewed with devsys and git.
@Suite struct ReadCommandTests {
    /// A blog from `devsys init` (its spec 001-about-page passes its tests and needs a review),
    /// with more specs committed, after one `devsys run --until-idle`.
    struct Blog {
        let scratch: Scratch
        var root: URL { scratch.url.appendingPathComponent("blog") }

        /// `specs`: id → (extra task.yaml lines, agent.sh); `failing`: one of them is meant to fail.
        init(specs: [String: (yaml: String, agent: String)] = [:], failing: Bool = false) throws {
            scratch = try Scratch()
            #expect(try run(devsysBinary, ["init", scratch.path("blog")]).status == 0)
            for (id, spec) in specs {
                try scratch.write("blog/specs/\(id)/task.yaml", spec.yaml)
                try scratch.write("blog/specs/\(id)/agent.sh", spec.agent)
            }
            if !specs.isEmpty {
                try git("add", "-A", in: root)
                try git("commit", "-q", "-m", "Add \(specs.keys.sorted().joined(separator: ", "))", in: root)
            }
            try runUntilIdle(failing: failing)
        }

        /// Runs the controller until idle; a run in which a task failed exits 1, as `failing` expects.
        func runUntilIdle(failing: Bool = false) throws {
            let result = try devsys("run", "--until-idle", "--timeout", "60")
            try #require(result.status == (failing ? 1 : 0), "run --until-idle exited \(result.status): \(result.stderr)")
        }

        @discardableResult
        func devsys(_ arguments: String...) throws -> CommandResult {
            try run(devsysBinary, arguments, in: root)
        }

        func json<T: Decodable>(_ type: T.Type, _ arguments: String...) throws -> T {
            let result = try run(devsysBinary, arguments, in: root)
            try #require(result.status == 0, "devsys \(arguments.joined(separator: " ")): \(result.stderr)")
            return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
        }

        func rev(_ revision: String) throws -> String {
            try git("rev-parse", "--verify", revision, in: root).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    struct ListedTask: Decodable {
        var id: String
        var state: String
        var attempt: Int
        var maxAttempts: Int
        var branchHead: String?
        var reason: String?
    }

    struct ShownTask: Decodable {
        struct Tests: Decodable {
            var passed: Bool
            var tests: Int
            var failures: Int
            var skipped: Int
        }

        struct ShownEvent: Decodable { var kind: String }

        var id: String
        var state: String
        var attempt: Int
        var maxAttempts: Int
        var reason: String?
        var branchHead: String?
        var tests: Tests?
        var reviews: [String]
        var approved: Bool
        var events: [ShownEvent]
    }

    struct ReportJSON: Decodable {
        struct Case: Decodable {
            var name: String
            var status: String
        }

        var commit: String
        var source: String
        var passed: Bool
        var testCases: [Case]
    }

    /// A spec of the blog app with one `run` check; its agent writes `app/<id>.txt`.
    static func spec(_ id: String, check: String, maxAttempts: Int = 3) -> String {
        """
        id: \(id)
        title: Task \(id)
        kind: feature
        app: blog
        story: As a reader I want \(id) so that the test has something to check.
        acceptance:
          - name: the check
            run: '\(check)'
        expected_artifacts: [app/\(id).txt]
        retry_policy: { max_attempts: \(maxAttempts), backoff_s: 0, max_backoff_s: 0 }

        """
    }

    @Test func tasksTaskShowAndReportDescribeATaskInReview() throws {
        let blog = try Blog()
        let head = try blog.rev("task/001-about-page")

        let table = try blog.devsys("tasks")
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("ID              STATE   ATTEMPT  HEAD"), "\(table.stdout)")
        #expect(table.stdout.contains("001-about-page  review  1/3      \(head.prefix(12))"), "\(table.stdout)")
        let listed = try blog.json([ListedTask].self, "tasks", "--json")
        #expect(listed.map(\.id) == ["001-about-page"])
        #expect(listed.first?.state == "review" && listed.first?.branchHead == head && listed.first?.maxAttempts == 3)
        #expect(try blog.devsys("tasks", "--state-filter", "failed").stdout == "no task is failed\n")
        #expect(try blog.devsys("tasks", "--state-filter", "done").status == 2, "an unknown state is a usage error")

        let show = try blog.devsys("task", "show", "001-about-page")
        #expect(show.status == 0)
        for expected in [
            "state    review", "attempt  1 of 3", "task/001-about-page at \(head.prefix(12)), 1 commit ahead of main", "passed at", "tests.passed",
        ] {
            #expect(show.stdout.contains(expected), "\(expected) in \(show.stdout)")
        }
        let shown = try blog.json(ShownTask.self, "task", "show", "001-about-page", "--json")
        #expect(shown.state == "review" && shown.attempt == 1 && !shown.approved && shown.reviews.isEmpty)
        #expect(shown.tests.map { [$0.tests, $0.failures, $0.skipped] } == [3, 0, 1] && shown.tests?.passed == true)
        #expect(shown.events.map(\.kind).contains("coding.committed"))

        let report = try blog.devsys("report", "001-about-page")
        #expect(report.status == 0)
        #expect(report.stdout.hasPrefix("task 001-about-page at \(head.prefix(12)): passed — 3 tests (1 skipped), 0 failures\n"), "\(report.stdout)")
        #expect(report.stdout.contains("  ok       unit tests"), "\(report.stdout)")
        #expect(report.stdout.contains("  skipped  about page served"), "\(report.stdout)")
        let junit = try blog.devsys("report", "001-about-page", "--junit")
        #expect(junit.stdout == (try git("notes", "--ref=devsys/tests", "show", "task/001-about-page", in: blog.root)))
        let structured = try blog.json(ReportJSON.self, "report", "001-about-page", "--json")
        #expect(structured.commit == head && structured.source == "note" && structured.passed)
        #expect(structured.testCases.map(\.status).sorted() == ["passed", "passed", "skipped"])
        #expect(try blog.devsys("report", "001-about-page", "--junit", "--json").status == 2)

        // Without the note, the report file in the state folder still answers.
        try git("update-ref", "-d", "refs/notes/devsys/tests", in: blog.root)
        #expect(try blog.json(ReportJSON.self, "report", "001-about-page", "--json").source == "file")

        for command in [["task", "show"], ["report"], ["pr", "show"], ["task", "retry"]] {
            let unknown = try run(devsysBinary, command + ["999-nope"], in: blog.root)
            #expect(unknown.status == 1, "\(command)")
            #expect(unknown.stderr == "devsys: no task 999-nope\n'devsys tasks' lists the tasks\n", "\(command): \(unknown.stderr)")
        }
    }

    @Test func anApprovedBranchMergesIntoMainWithAMergeCommit() throws {
        let blog = try Blog()
        let head = try blog.rev("task/001-about-page")
        let list = try blog.devsys("pr", "list")
        #expect(list.stdout.contains("001-about-page  \(head.prefix(12))  3 tests (1 skipped), 0 failures  no"), "\(list.stdout)")

        let refused = try blog.devsys("pr", "merge", "001-about-page")
        #expect(refused.status == 1)
        let approveFirst = "devsys: task 001-about-page needs an approval of its branch's head first\n"
        #expect(refused.stderr == approveFirst + "approve it with: devsys pr approve 001-about-page\n", "\(refused.stderr)")
        #expect(try blog.rev("main") != head && (try gitResult("merge-base", "--is-ancestor", head, "main", in: blog.root)).status == 1)

        #expect(try blog.devsys("pr", "approve", "001-about-page").status == 0)
        let note = try git("notes", "--ref=devsys/reviews", "show", "task/001-about-page", in: blog.root)
        #expect(note.hasPrefix("Approved-by: Ada Tester <ada@example.com> at "), "\(note)")
        struct Listed: Decodable {
            var id: String
            var approved: Bool
        }
        #expect(try blog.json([Listed].self, "pr", "list", "--json").map(\.approved) == [true])

        let merge = try blog.devsys("pr", "merge", "001-about-page")
        #expect(merge.status == 0, "\(merge.stderr)")
        let mainCommit = try blog.rev("main")
        #expect(merge.stdout == "merged task/001-about-page into main: \(mainCommit)\n")
        #expect(try git("show", "main:app/about.php", in: blog.root).contains("About this blog"))
        let parents = try git("log", "-1", "--format=%P", "main", in: blog.root).split(separator: " ").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(parents.count == 2 && parents.last == head, "a merge commit of main and the branch: \(parents)")
        #expect(try blog.json([ListedTask].self, "tasks", "--json").first?.state == "merged")
        #expect(try blog.devsys("pr", "list").stdout == "no task waits for review\n")

        // The store is only a cache of git: lose it, and reindex finds the task merged.
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(at: blog.root.appendingPathComponent(".git/devsys/devsys.sqlite\(suffix)"))
        }
        let reindex = try blog.devsys("reindex")
        #expect(reindex.status == 0, "\(reindex.stderr)")
        #expect(reindex.stdout.hasPrefix("1 task read from git at main \(mainCommit.prefix(12))\n"), "\(reindex.stdout)")
        #expect(reindex.stdout.contains("001-about-page  merged  1/3"), "\(reindex.stdout)")
        #expect(try blog.json([ListedTask].self, "reindex", "--json").map(\.state) == ["merged"])
    }

    @Test func prShowListsTheChangedFilesAndTheDiffGitPrints() throws {
        let agent =
            "sed -i 's|// Shared page frame for the sample blog.|// Shared page frame, now with a note.|' app/layout.php\necho note > app/003-note.txt\n"
        let blog = try Blog(specs: ["003-note": (Self.spec("003-note", check: "grep -q note app/layout.php"), agent)])
        let show = try blog.devsys("pr", "show", "003-note")
        #expect(show.status == 0, "\(show.stderr)")
        let gitDiff = try git("diff", "--no-color", "main...task/003-note", in: blog.root)
        for expected in [" A  app/003-note.txt  +1 -0", " M  app/layout.php    +1 -1", " 2 files changed\n\n" + gitDiff] {
            #expect(show.stdout.contains(expected), "\(expected) in \(show.stdout)")
        }
        #expect(gitDiff.contains("-// Shared page frame for the sample blog.\n+// Shared page frame, now with a note.\n"), "\(gitDiff)")

        struct Shown: Decodable {
            struct File: Decodable, Equatable {
                var path: String
                var status: String
                var added: Int?
                var deleted: Int?
            }
            var files: [File]
            var diff: String
        }
        let shown = try blog.json(Shown.self, "pr", "show", "003-note", "--json")
        #expect(shown.diff == gitDiff)
        #expect(
            shown.files == [
                .init(path: "app/003-note.txt", status: "added", added: 1, deleted: 0),
                .init(path: "app/layout.php", status: "modified", added: 1, deleted: 1),
            ]
        )
        let short = try blog.devsys("pr", "show", "003-note", "--max-lines", "3")
        #expect(short.stdout.contains("more lines: git diff main...task/003-note"), "\(short.stdout)")
    }

    @Test func aRejectedTaskEndsRejectedWithTheReasonInGit() throws {
        let blog = try Blog()
        #expect(try blog.devsys("pr", "reject", "001-about-page").status == 2, "--reason is required")
        let reject = try blog.devsys("pr", "reject", "001-about-page", "--reason", "the page needs a photo")
        #expect(reject.status == 0, "\(reject.stderr)")
        let shown = try blog.json(ShownTask.self, "task", "show", "001-about-page", "--json")
        #expect(shown.state == "rejected")
        #expect(shown.reason == "rejected by Ada Tester <ada@example.com>: the page needs a photo")
        #expect(shown.reviews.count == 1 && shown.reviews[0].hasPrefix("Rejected-by: Ada Tester <ada@example.com> at "))
        #expect(shown.reviews[0].hasSuffix(": the page needs a photo"))
        let approve = try blog.devsys("pr", "approve", "001-about-page")
        #expect(approve.status == 1 && approve.stderr.contains("task 001-about-page is rejected"), "\(approve.stderr)")
    }

    @Test func retryingAFailedTaskRunsAnotherAttempt() throws {
        let id = "002-second-try"
        let blog = try Blog(
            specs: [
                id: (Self.spec(id, check: "test \"$(cat app/\(id).txt)\" -ge 2", maxAttempts: 1), "echo \"$DEVSYS_ATTEMPT\" > app/\(id).txt\n")
            ],
            failing: true
        )
        let failed = try blog.json([ListedTask].self, "tasks", "--json", "--state-filter", "failed")
        #expect(failed.map(\.id) == [id])
        #expect(failed.first?.reason?.contains("tests failed") == true, "\(failed)")
        let report = try blog.devsys("report", id)
        #expect(report.status == 0)
        #expect(report.stdout.contains("FAILED — 2 tests, 1 failure: the check"), "\(report.stdout)")
        #expect(report.stdout.contains("  FAIL  the check"), "\(report.stdout)")

        let notFailed = try blog.devsys("task", "retry", "001-about-page")
        #expect(notFailed.status == 1)
        #expect(notFailed.stderr.contains("task 001-about-page is review; this needs it failed or rejected"), "\(notFailed.stderr)")

        let retry = try blog.devsys("task", "retry", id)
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(retry.stdout.hasPrefix("task \(id) queued again: attempt 2 of 2 starts from task/\(id) at "), "\(retry.stdout)")
        #expect(try blog.json(ShownTask.self, "task", "show", id, "--json").state == "queued")

        try blog.runUntilIdle()
        let shown = try blog.json(ShownTask.self, "task", "show", id, "--json")
        #expect(shown.state == "review" && shown.attempt == 2 && shown.maxAttempts == 2, "\(shown)")
        #expect(shown.tests?.passed == true)
        #expect(shown.events.map(\.kind).contains("task.state"))
        let attempts = try git("log", "--format=%(trailers:key=Attempt,valueonly)", "main..task/\(id)", in: blog.root)
        #expect(attempts.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } == ["2", "1"])
    }
}

extension ReadCommandTests {
    struct AuditRow: Decodable {
        var actor: String
        var action: String
        var target: String
        var outcome: String
    }

    struct EventRow: Decodable {
        var id: Int64
        var kind: String
    }

    @Test func anApprovalThenReindexKeepsTheAuditLogAndTheEvents() throws {
        let blog = try Blog()
        let approve = try blog.devsys("pr", "approve", "001-about-page", "--as", "Grace Hopper <grace@example.com>")
        #expect(approve.status == 0, "\(approve.stderr)")
        let refused = try blog.devsys("task", "cancel", "999-nothing", "--as", "Grace Hopper <grace@example.com>")
        #expect(refused.status == 1)
        let auditBefore = try blog.json([AuditRow].self, "audit", "--json")
        let eventsBefore = try blog.devsys("events", "--json", "--limit", "10000").stdout.split(separator: "\n")
            .map { try JSONDecoder().decode(EventRow.self, from: Data($0.utf8)) }
        #expect(auditBefore.contains { $0.action == "pr.approve" && $0.actor == "Grace Hopper <grace@example.com>" && $0.outcome == "ok" })
        #expect(auditBefore.contains { $0.action == "task.cancel" && $0.outcome == "refused: no task 999-nothing" })
        #expect(eventsBefore.count > 5)

        let reindex = try blog.devsys("reindex")
        #expect(reindex.status == 0, "\(reindex.stderr)")

        let auditAfter = try blog.json([AuditRow].self, "audit", "--json")
        #expect(Array(auditAfter.suffix(auditBefore.count)).map(\.outcome) == auditBefore.map(\.outcome), "the audit log outlives a reindex")
        let eventsAfter = try blog.devsys("events", "--json", "--limit", "10000").stdout.split(separator: "\n")
            .map { try JSONDecoder().decode(EventRow.self, from: Data($0.utf8)) }
        #expect(Array(eventsAfter.prefix(eventsBefore.count)).map(\.id) == eventsBefore.map(\.id), "every event before the reindex is still there")
        #expect(eventsAfter.dropFirst(eventsBefore.count).contains { $0.kind == "task.reindexed" })
        // The approval is a note in git: the reindexed task is still approved.
        #expect(try blog.devsys("task", "show", "001-about-page").stdout.contains("Approved-by: Grace Hopper <grace@example.com>"))
        let filtered = try blog.json([AuditRow].self, "audit", "--json", "--action", "pr.approve")
        #expect(filtered.map(\.target) == ["task/001-about-page@\(try blog.rev("task/001-about-page").prefix(12))"])
    }

    @Test func errorsWithJSONCarryAStableCode() throws {
        let blog = try Blog()
        let unknown = try blog.devsys("task", "show", "999-nothing", "--json")
        #expect(unknown.status == 1)
        #expect(unknown.stdout == #"{"error":{"category":"not_found","code":"task_not_found","message":"no task 999-nothing"}}"# + "\n")
        #expect(unknown.stderr == "devsys: no task 999-nothing\n'devsys tasks' lists the tasks\n")

        let noBranch = try blog.devsys("pr", "show", "001-about-page", "--json", "--repo", blog.root.path, "--state", blog.scratch.path("elsewhere"))
        #expect(noBranch.status == 1)
        #expect(noBranch.stdout.contains(#""code":"state_not_found""#), "\(noBranch.stdout)")

        let noEnvironment = try blog.devsys("deploy", "nowhere", "--json")
        #expect(noEnvironment.status == 1)
        #expect(noEnvironment.stdout.contains(#""code":"environment_not_found""#), "\(noEnvironment.stdout)")
    }
}
