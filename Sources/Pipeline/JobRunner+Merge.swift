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
    /// `review: auto`: merges the tested head into the trunk.
    func merge(_ job: Job) throws {
        guard let task = try store.task(id: job.key.taskID), task.state == .review, task.branchHead == job.key.inputCommit else {
            return try store.complete(jobID: job.id, worker: worker)
        }
        let merger = TaskMerger(repositoryPath: repositoryPath, store: store)
        let actor = Principal.controller
        let target = "task/\(task.id)@\(job.key.inputCommit.prefix(12))"
        _ = try store.audited(actor, "pr.merge (review: auto)", target: target, outcome: \.auditOutcome) { _ in
            try merger.merge(task, actor: "\(actor.name) (review: auto)") { transaction in
                try transaction.complete(jobID: job.id, worker: worker)
            }
        }
    }
}
