import Agents
import Foundation
import Processes
import Store

extension JobRunner {
    var sandboxing: AgentSandboxing {
        AgentSandboxing(repositoryPath: repositoryPath, state: state, store: store, worker: worker)
    }

    /// How a step's sandbox began.
    enum SandboxStart {
        /// Begun: a predecessor's ended, this one recorded with the lease.
        case sandboxed(AgentSandbox)
        /// `agents.sandbox: false`.
        case unsandboxed
        /// None can be made: the task failed with what is missing, the job completed.
        case refused

        var sandbox: AgentSandbox? {
            if case .sandboxed(let sandbox) = self { sandbox } else { nil }
        }
    }

    /// Begins the sandbox of a step. When this machine cannot make one, fails the task with what is
    /// missing and completes the job: no attempt would go better.
    func beginSandbox(_ kind: AgentSandboxing.Kind, job: Job, task: TaskRecord, context: TaskContext) throws -> SandboxStart {
        do {
            guard let sandbox = try sandboxing.plan(kind, job: job, spec: context.spec, config: context.config) else { return .unsandboxed }
            try sandboxing.begin(sandbox, job: job)
            return .sandboxed(sandbox)
        } catch let error as SandboxUnavailable {
            try store.transaction { transaction in
                try transaction.transition(taskID: task.id, from: [.queued, .coding, .testing], to: .failed, reason: "\(error)")
                try transaction.complete(jobID: job.id, worker: worker)
            }
            return .refused
        }
    }
}
