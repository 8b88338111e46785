import Actions
import ControlRepository
import Environments
import Foundation
import Git
import Runtime
import Store
import Testing

@testable import Pipeline

/// The store can be rebuilt from git alone (DESIGN §4): run a pipeline over tasks that end in
/// every state, lose the store, reindex, and find the same states.
// No wall-clock deadline inside a test: on a busy machine the blocking git and store calls wait
// for a core, and a fixed deadline counted that as failure (107 s for a run given 60). The time
// limit is for a hang only.
@Suite(.timeLimit(.minutes(10))) struct ReindexTests {
    @Test func reindexAfterLosingTheStoreFindsEveryTaskWhereItWas() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("101-passes")
        try repo.addSpec("102-fails-tests", acceptance: "false", maxAttempts: 1)
        try repo.addSpec("103-merged")
        try repo.addSpec("104-rejected")
        try repo.addSpec("105-auto", review: "auto")
        try repo.addSpec("106-second-try", acceptance: "test \"$(cat app/106-second-try.txt)\" -ge 2", maxAttempts: 2)
        try repo.addSpec("107-coding-fails", agent: "echo 'no idea' >&2; exit 1", maxAttempts: 1)
        try repo.addSpec("108-spec-deleted")
        try repo.commit("Add the specs")

        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        let store = controller.store
        let reviews = Reviews(repositoryPath: repo.path, store: store)
        let toMerge = try #require(try store.task(id: "103-merged"))
        try reviews.approve(toMerge, reviewer: "Ada")
        if case .conflicts(let paths) = try TaskMerger(repositoryPath: repo.path, store: store).merge(toMerge, actor: "Ada") {
            Issue.record("103-merged conflicts in \(paths)")
        }
        try reviews.reject(try #require(try store.task(id: "104-rejected")), reviewer: "Ada", reason: "wrong colour")
        try repo.git("reset", "-q", "--hard")  // the work tree catches up with the merges devsys made on main
        try repo.git("rm", "-q", "-r", "specs/108-spec-deleted")
        try repo.commit("Drop 108")
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)

        let before = Dictionary(uniqueKeysWithValues: try store.tasks().map { ($0.id, $0) })
        #expect(
            before.mapValues(\.state.rawValue) == [
                "101-passes": "review", "102-fails-tests": "failed", "103-merged": "merged", "104-rejected": "rejected",
                "105-auto": "merged", "106-second-try": "review", "107-coding-fails": "failed", "108-spec-deleted": "cancelled",
            ]
        )

        try store.close()
        try repo.loseStore()
        let rebuilt = try Store(path: repo.state.storeFile)
        let tasks = try Reindexer(repositoryPath: repo.path, store: rebuilt, state: repo.state).reindex()
        #expect(tasks.map(\.id) == before.keys.sorted())
        for task in tasks where task.id != "107-coding-fails" {
            let old = try #require(before[task.id])
            #expect(task.state == old.state, "\(task.id): \(task.reason ?? "")")
            #expect(task.attempt == old.attempt, "\(task.id)")
            #expect(task.branchHead == old.branchHead, "\(task.id)")
            #expect(task.title == old.title && task.app == old.app, "\(task.id)")
        }
        #expect(try rebuilt.task(id: "104-rejected")?.reason == "rejected by Ada: wrong colour")
        #expect(try rebuilt.task(id: "102-fails-tests")?.reason?.hasPrefix("tests failed on attempt 1 of 1") == true)

        // A coding attempt that failed without a commit leaves no trace in git: the task runs again.
        let trunk = try repo.rev("main")
        #expect(try rebuilt.task(id: "107-coding-fails")?.state == .queued)
        #expect(try rebuilt.job(key: JobKey(taskID: "107-coding-fails", step: .coding, inputCommit: trunk))?.state == .pending)
        // The reconciler starts from where reindex read the trunk: nothing to redo.
        #expect(try !Reconciler(repositoryPath: repo.path, store: rebuilt).reconcile().changedAnything)
    }

    @Test func aBranchMovedByHandIsTestedAgainAndAFailingOneCodedAgain() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("201-pushed-to")
        try repo.addSpec("202-retrying", acceptance: "false", maxAttempts: 3)
        try repo.commit("Add the specs")
        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        // Only the first round: code and test 202 once, without waiting for its next attempts.
        let summary = try Reconciler(repositoryPath: repo.path, store: controller.store).reconcile()
        #expect(summary.started == ["201-pushed-to", "202-retrying"])
        for _ in 0..<10 {
            if try controller.store.events(taskID: "202-retrying").contains(where: { $0.kind == "tests.failed" }) { break }
            _ = try await controller.runDueJobs()
        }
        #expect(try controller.store.task(id: "201-pushed-to")?.state == .review)
        #expect(try controller.store.task(id: "202-retrying")?.state == .coding)

        try repo.git("checkout", "-q", "task/201-pushed-to")
        try repo.write("app/by-hand.txt", "a person's fix\n")
        try repo.commit("A fix by hand")
        try repo.git("checkout", "-q", "main")
        let pushed = try repo.rev("task/201-pushed-to")

        try controller.store.close()
        try repo.loseStore()
        let rebuilt = try Store(path: repo.state.storeFile)
        let tasks = try Reindexer(repositoryPath: repo.path, store: rebuilt, state: repo.state).reindex()
        #expect(tasks.map(\.state) == [.testing, .coding])
        #expect(tasks[0].branchHead == pushed)
        #expect(try rebuilt.job(key: JobKey(taskID: "201-pushed-to", step: .testing, inputCommit: pushed))?.state == .pending)
        let failing = try #require(tasks[1].branchHead)
        let coding = try #require(try rebuilt.job(key: JobKey(taskID: "202-retrying", step: .coding, inputCommit: failing)))
        #expect(coding.state == .pending)
        #expect(String(decoding: coding.payload, as: UTF8.self).contains("The tests failed"), "the failing report is the agent's feedback")
        #expect(tasks[1].attempt == 1 && tasks[1].maxAttempts == 3)
    }

    @Test func storedReportsAreReadFromTheirJUnitXML() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="x" tests="3" failures="1" errors="0" skipped="1" time="1.500">
              <testsuite name="unit">
                <testcase name="adds" classname="math" time="0.5"/>
                <testcase name="divides" classname="math" time="1.0"><failure message="expected 2">got 3</failure></testcase>
                <testcase name="later" classname="http"><skipped message="after deploy"/></testcase>
              </testsuite>
            </testsuites>
            """
        let commit = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
        let report = try StoredTestReport(xml: xml, commit: commit, source: .note)
        #expect(!report.passed)
        #expect(report.summary == "3 tests (1 skipped), 1 failure: divides")
        #expect(report.testCases.map(\.status) == [.passed, .failed, .skipped])
        #expect(report.testCases[1].message == "expected 2" && report.testCases[1].details == "got 3")
        #expect(report.testCases[1].suite == "unit" && report.time == 1.5)
        #expect(throws: StoredTestReportError.self) { try StoredTestReport(xml: "not xml", commit: commit, source: .file) }
    }
}
