import Agents
import ControlRepository
import Deploy
import Environments
import Foundation
import Git
import Hosts
import Processes
import Specs
import Store

extension JobRunner {
    /// Runs the app's tests and the spec's `run` checks on the branch head, stores the JUnit
    /// report (note + file), then moves the task to review (or merge) or back to coding.
    func test(_ job: Job) async throws {
        guard let start = try await offload({ try startTesting(job) }) else { return }
        let sandbox = start.request.sandbox
        let report: TestReport
        do {
            report = try await TestingAgent(runner: runner).test(start.request)
        } catch {
            try? await offload { sandboxing.end(sandbox) }
            throw error
        }
        try await offload {
            sandboxing.end(sandbox)
            try recordTests(report, task: start.task, context: start.context, job: job)
        }
    }

    /// One test run about to start.
    private struct TestingStart: @unchecked Sendable {
        var task: TaskRecord
        var context: TaskContext
        var request: TestRequest
    }

    /// Reads the task and its spec; nil (the job completed) when the task no longer waits for
    /// tests of this commit.
    private func startTesting(_ job: Job) throws -> TestingStart? {
        guard let task = try store.task(id: job.key.taskID), task.state == .testing, task.branchHead == job.key.inputCommit,
            let commit = ObjectID(hex: job.key.inputCommit)
        else {
            try store.complete(jobID: job.id, worker: worker)
            return nil
        }
        let context = try TaskContext.load(task: task, repositoryPath: repositoryPath)
        let start = try beginSandbox(.testing, job: job, task: task, context: context)
        if case .refused = start { return nil }
        let request = TestRequest(
            repositoryPath: repositoryPath,
            taskID: task.id,
            commit: commit,
            spec: context.spec,
            testCommand: context.config.apps.first { $0.name == context.spec.app }?.test,
            scratchFolder: state.workFolder.appendingPathComponent(task.id),
            environment: sandboxing.passedEnvironment(context.config.agents.testing.environment),
            sandbox: start.sandbox
        )
        return TestingStart(task: task, context: context, request: request)
    }

    /// Stores the report (note + file), then moves the task to review (or merge) or back to coding.
    private func recordTests(_ report: TestReport, task: TaskRecord, context: TaskContext, job: Job) throws {
        let commit = report.commit
        try TestingAgent.storeReport(report, for: commit, in: context.repository, reportsFolder: state.reportsFolder(taskID: task.id))
        try store.transaction { transaction in
            try transaction.appendEvent(
                taskID: task.id,
                kind: report.passed ? .testsPassed : .testsFailed,
                message: "\(commit.short): \(report.summary)",
                data: ["commit": commit.hex]
            )
            if report.passed {
                try transaction.transition(taskID: task.id, from: [.testing], to: .review, reason: nil)
                if context.spec.review == .auto {
                    try transaction.enqueue(
                        JobKey(taskID: task.id, step: .merge, inputCommit: commit.hex),
                        maxAttempts: Reconciler.crashAllowance + 1
                    )
                }
            } else {
                try transaction.sendBackToCoding(
                    task,
                    from: .testing,
                    reason: "tests failed on \(commit.short): \(report.summary)",
                    feedback: Self.feedback(from: report),
                    head: commit
                )
            }
            try transaction.complete(jobID: job.id, worker: worker)
        }
    }

    /// What the coding agent reads after failing tests: the summary and each failing command's output.
    static func feedback(from report: TestReport) -> String {
        var text = "The tests failed: \(report.summary)\n"
        for command in report.commands where !command.passed {
            text += "\n## \(command.name) (\(command.command)) — \(command.outcome.termination)\n"
            text += command.outcome.stdout.lastText(maxBytes: 4000) + command.outcome.stderr.lastText(maxBytes: 4000)
        }
        return text + "\nThe full JUnit report is in refs/notes/devsys/tests on the tested commit.\n"
    }
}
