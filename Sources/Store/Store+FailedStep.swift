import Foundation

extension Store {
    /// The step a failed task failed at. A failure while merged, deploying or deployed is the
    /// deploy's. Else a job that died (its worker stopped every time, git kept failing under it)
    /// names its own step; a task whose attempts ran out — the agent failed, or its tests
    /// failed — failed at coding.
    public func failedStep(of task: TaskRecord) throws -> JobStep {
        let failure = try events(taskID: task.id, limit: 500).last { $0.eventKind == .taskState && $0.data["to"] == TaskState.failed.rawValue }
        switch failure?.data["from"].flatMap(TaskState.init(rawValue:)) {
        case .merged, .deploying, .deployed: return .deploy
        default: break
        }
        guard let latest = try jobs(taskID: task.id).last, latest.state == .dead else { return .coding }
        switch latest.key.step {
        case .testing: return .testing
        case .merge: return .merge
        case .coding, .deploy, .monitor: return .coding
        }
    }
}
