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
    /// Checks the task branch out, runs the coding agent, commits its change, and queues the tests.
    /// Stops early (completing the job) when the task is no longer waiting for code.
    func code(_ job: Job) async throws {
        guard let attempt = try await offload({ try startCoding(job) }) else { return }
        let sandbox = attempt.request.sandbox
        let outcome: CodingOutcome
        do {
            outcome = try await CodingAgent(runner: runner).attempt(attempt.request)
        } catch {
            try? await offload { sandboxing.end(sandbox) }
            throw error
        }
        try await offload {
            sandboxing.end(sandbox)
            try recordCoding(outcome, task: attempt.task, attempt: attempt.request.attempt, job: job)
        }
    }

    /// One coding attempt about to run: the task as it was read, and what the agent gets.
    private struct CodingStart: Sendable {
        var task: TaskRecord
        var request: CodingRequest
    }

    /// Reads the task and its spec and moves it to `coding`; nil (the job completed) when the task
    /// no longer waits for code.
    private func startCoding(_ job: Job) throws -> CodingStart? {
        guard let task = try store.task(id: job.key.taskID), [.queued, .coding].contains(task.state) else {
            try store.complete(jobID: job.id, worker: worker)
            return nil
        }
        let context = try TaskContext.load(task: task, repositoryPath: repositoryPath)
        let start = try beginSandbox(.coding, job: job, task: task, context: context)
        if case .refused = start { return nil }
        let attempt = task.attempt + 1
        let branch = ControlRefs.taskBranch(task.id)
        let head = try context.repository.reference(named: branch) ?? context.trunkCommit
        _ = try store.transition(taskID: task.id, from: [.queued, .coding], to: .coding, reason: "attempt \(attempt) of \(task.maxAttempts)")

        let feedback = job.attempts > 1 && job.lastError != nil ? job.lastError : CodingPayload(decoding: job.payload).feedback
        let scratch = state.workFolder.appendingPathComponent("\(task.id)")
        let request = CodingRequest(
            repositoryPath: repositoryPath,
            taskID: task.id,
            spec: context.spec,
            head: head,
            attempt: attempt,
            feedback: feedback,
            agent: context.config.agents.coding,
            scratchFolder: scratch,
            environment: sandboxing.passedEnvironment(context.config.agents.coding.environment),
            sandbox: start.sandbox
        )
        return CodingStart(task: task, request: request)
    }

    /// Records what the coding agent did: a commit moves the task to testing, a failure sends it
    /// back to coding after the spec's backoff, or fails it once its attempts are used up.
    private func recordCoding(_ outcome: CodingOutcome, task: TaskRecord, attempt: Int, job: Job) throws {
        switch outcome {
        case .committed(let commit, let paths):
            try store.transaction { transaction in
                // Cancelled (or otherwise moved on) while the agent worked: the commit stays on the
                // branch, the task stays where it was put.
                guard try transaction.task(id: task.id)?.state == .coding else {
                    try transaction.complete(jobID: job.id, worker: worker)
                    return
                }
                var record = task
                record.branchHead = commit.hex
                record.attempt = attempt
                record.state = .coding
                record.reason = nil
                record.updatedAt = .now
                try transaction.upsertTask(record)
                try transaction.appendEvent(
                    taskID: task.id,
                    kind: .codingCommitted,
                    message: "attempt \(attempt): \(commit.short) changes \(paths.joined(separator: ", "))",
                    data: ["commit": commit.hex, "attempt": String(attempt)]
                )
                try transaction.transition(taskID: task.id, from: [.coding], to: .testing, reason: "testing attempt \(attempt) at \(commit.short)")
                try transaction.enqueue(
                    JobKey(taskID: task.id, step: .testing, inputCommit: commit.hex),
                    maxAttempts: Reconciler.crashAllowance + 1
                )
                try transaction.complete(jobID: job.id, worker: worker)
            }
        case .failed(let reason, let log):
            try store.transaction { transaction in
                try transaction.appendEvent(
                    taskID: task.id,
                    kind: .codingFailed,
                    message: "attempt \(attempt): \(reason)",
                    data: ["attempt": String(attempt), "log": String(log.suffix(4000))]
                )
                if attempt >= task.maxAttempts {
                    try transaction.transition(
                        taskID: task.id,
                        from: [.coding],
                        to: .failed,
                        reason: "attempt \(attempt) of \(task.maxAttempts) failed: \(reason)",
                        attempt: attempt
                    )
                    try transaction.complete(jobID: job.id, worker: worker)
                } else {
                    try transaction.transition(
                        taskID: task.id,
                        from: [.coding],
                        to: .coding,
                        reason: "attempt \(attempt) failed: \(reason)",
                        attempt: attempt
                    )
                    // The same job again, after the spec's backoff, with this reason as feedback.
                    _ = try transaction.fail(jobID: job.id, worker: worker, error: "attempt \(attempt) failed: \(reason)\n\n\(log)", retryable: true)
                }
            }
        }
    }
}
