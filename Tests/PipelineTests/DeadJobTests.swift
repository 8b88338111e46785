import Actions
import Environments
import Foundation
import Store
import Testing

@testable import Pipeline
@testable import Runtime

/// No task is left between states with nothing queued: a job that dies fails its task with the
/// reason, and `task retry` takes the task on from the step that failed.
// No wall-clock deadline inside a test (see ReindexTests); the time limit is for a hang only.
@Suite(.timeLimit(.minutes(10))) struct DeadJobTests {
    @Test func aTestJobWhoseWorkerDiesEveryTimeFailsItsTaskAndRetryTestsAgainWithoutCoding() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("401-unlucky")
        try repo.commit("Add the spec")
        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        let store = controller.store
        try Reconciler(repositoryPath: repo.path, store: store).reconcile()
        // Coding only: the testing job it queues is left for the "ghost" below.
        let coding = try #require(try store.lease(worker: controller.worker, steps: [.coding], for: 3600))
        try await controller.runner.run(coding)
        #expect(try store.task(id: "401-unlucky")?.state == .testing)

        // A worker that takes the test job and dies, until the job's leases are used up.
        let now = Date()
        var leases = 0
        while let job = try store.lease(worker: "ghost", steps: [.testing], for: 1, now: now.addingTimeInterval(Double(leases) * 10)) {
            leases += 1
            #expect(job.attempts == leases)
        }
        #expect(leases == Reconciler.crashAllowance + 1)
        #expect(try store.task(id: "401-unlucky")?.state == .testing, "stuck until the reconciler looks")

        let failed = try DeadJobs(store: store).failTasksOfDeadJobs()
        #expect(failed == ["401-unlucky"])
        let task = try #require(try store.task(id: "401-unlucky"))
        #expect(task.state == .failed)
        #expect(task.reason?.hasPrefix("the testing job gave up: the lease of ghost expired") == true, "\(task.reason ?? "")")

        let retried = try TaskRetry(repositoryPath: repo.path, store: store).retry(taskID: "401-unlucky", actor: "Ada")
        #expect(retried.step == .testing)
        #expect(retried.task.state == .testing)
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        let done = try #require(try store.task(id: "401-unlucky"))
        #expect(done.state == .review)
        #expect(done.attempt == 1, "the branch was not coded again")
        #expect(try repo.git("log", "--format=%s", "main..task/401-unlucky").split(separator: "\n").count == 1)
    }

    @Test func aCommitTheStoreNeverRecordedIsTestedOnRetryNotCodedAgain() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("404-landed")
        try repo.commit("Add the spec")
        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        let store = controller.store
        try Reconciler(repositoryPath: repo.path, store: store).reconcile()
        // The agent's commit landed on the branch; every controller that ran the job was killed
        // before recording it, until the job's leases were used up.
        try repo.git("checkout", "-q", "-b", "task/404-landed")
        try repo.write("app/404-landed.txt", "1\n")
        try repo.git("add", "-A")
        try repo.git("commit", "-q", "-m", "Task 404-landed (attempt 1)\n\nTask: 404-landed\nAttempt: 1")
        try repo.git("checkout", "-q", "main")
        let landed = try repo.rev("task/404-landed")
        let now = Date()
        var leases = 0
        while try store.lease(worker: "ghost", steps: [.coding], for: 1, now: now.addingTimeInterval(Double(leases) * 10)) != nil { leases += 1 }
        #expect(try DeadJobs(store: store).failTasksOfDeadJobs() == ["404-landed"])

        let retried = try TaskRetry(repositoryPath: repo.path, store: store).retry(taskID: "404-landed", actor: "Ada")
        #expect(retried.step == .testing, "the landed attempt is tested, not coded again")
        #expect(retried.job.key.inputCommit == landed)
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        let done = try #require(try store.task(id: "404-landed"))
        #expect(done.state == .review, "\(done.reason ?? "")")
        #expect(done.attempt == 1 && done.branchHead == landed)
    }

    @Test func aRunReportCountsWhatFailed() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("402-hopeless", acceptance: "false", maxAttempts: 1)
        try repo.addSpec("403-fine")
        try repo.commit("Add the specs")
        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        let report = try await controller.runUntilIdle(deadline: .distantFuture)
        #expect(report.idle)
        #expect(report.hadFailures)
        #expect(report.tasksFailed.count == 1 && report.tasksFailed[0].hasPrefix("402-hopeless: "), "\(report.tasksFailed)")
        #expect(Set(report.tasksInReview) == ["403-fine"])
        #expect(report.lines[0].contains("1 failed"), "\(report.lines)")
    }
}
