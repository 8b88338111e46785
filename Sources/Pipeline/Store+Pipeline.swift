import Foundation
import Git
import Store

extension Store.Transaction {
    /// Sends a task back to coding with `feedback` for its next attempt (a new coding job keyed
    /// by the commit that failed), or to `failed` when its attempts are used up.
    func sendBackToCoding(_ task: TaskRecord, from: TaskState, reason: String, feedback: String, head: ObjectID) throws {
        if task.attempt >= task.maxAttempts {
            try transition(taskID: task.id, from: [from], to: .failed, reason: "attempt \(task.attempt) of \(task.maxAttempts): \(reason)")
            return
        }
        try transition(taskID: task.id, from: [from], to: .coding, reason: reason)
        try enqueue(
            JobKey(taskID: task.id, step: .coding, inputCommit: head.hex),
            payload: CodingPayload(feedback: feedback).encoded(),
            maxAttempts: task.maxAttempts + Reconciler.crashAllowance
        )
    }
}
