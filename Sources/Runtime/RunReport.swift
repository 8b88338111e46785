import Foundation
import Pipeline
import Specs
import Store

/// What happened during one `devsys run --until-idle`, read from the events it appended: the
/// summary it prints, and whether it exits 1 (a task failed, a deploy failed, a job was given up).
public struct RunReport: Sendable, Codable {
    /// Whether the run ended idle.
    public var idle: Bool
    /// Whether `--timeout` passed first; neither this nor `idle`: a signal stopped it.
    public var timedOut: Bool
    public var tasksStarted: [String] = []
    public var tasksInReview: [String] = []
    public var tasksMerged: [String] = []
    public var tasksDeployed: [String] = []
    /// `id: reason` of each task that failed.
    public var tasksFailed: [String] = []
    /// The messages of failed, refused and given-up deploys, and of jobs given up.
    public var deploysFailed: [String] = []
    public var jobsGivenUp: [String] = []
    public var deploys: [String] = []
    /// Rollbacks made (`devsys rollback`, or an env ref moved back with git).
    public var rollbacks: [String] = []
    /// Deploys refused (a commit marked bad) and attempts the infrastructure stopped (retried).
    public var deploysRefused: [String] = []
    public var deploysRetried: [String] = []

    /// Exit 1 when any of these happened during the run.
    public var hadFailures: Bool { !tasksFailed.isEmpty || !deploysFailed.isEmpty || !jobsGivenUp.isEmpty }

    init(idle: Bool, timedOut: Bool, events: [Event]) {
        self.idle = idle
        self.timedOut = timedOut
        for event in events {
            let task = event.taskID ?? ""
            switch event.eventKind {
            case .taskCreated: tasksStarted.append(task)
            case .taskState:
                switch event.data["to"] {
                case "review": tasksInReview.append(task)
                case "merged": tasksMerged.append(task)
                case "deployed": tasksDeployed.append(task)
                case "failed": noteFailure(of: task, "\(event.data["reason"]?.firstLine ?? "failed")")
                default: break
                }
            case .specInvalid: noteFailure(of: task, "spec is invalid: \(event.message.firstLine)")
            case .deploySucceeded: deploys.append(event.message.firstLine)
            case .rollback: rollbacks.append(event.message.firstLine)
            case .deployFailed, .deployGaveUp: deploysFailed.append(event.message.firstLine)
            case .deployRefused: deploysRefused.append(event.message.firstLine)
            case .deployError: deploysRetried.append(event.message.firstLine)
            case .jobDead: jobsGivenUp.append("\(task): \(event.message.firstLine)")
            default: break
            }
        }
    }

    /// One line per failed task, the first reason seen.
    private mutating func noteFailure(of task: String, _ reason: String) {
        guard !tasksFailed.contains(where: { $0.hasPrefix("\(task): ") }) else { return }
        tasksFailed.append("\(task): \(reason)")
    }

    /// The summary, one line per outcome, for people.
    public var lines: [String] {
        var lines = [
            "run: " + (idle ? "idle" : timedOut ? "out of time before idle" : "stopped before idle")
                + " — \(tasksStarted.count) task(s) started, \(Set(tasksInReview).count) in review, \(Set(tasksMerged).count) merged, "
                + "\(Set(tasksDeployed).count) deployed, \(tasksFailed.count) failed; \(deploys.count) deploy(s), "
                + "\(deploysFailed.count) failed; \(jobsGivenUp.count) job(s) given up"
        ]
        lines += deploys.map { "  deployed: \($0)" }
        lines += rollbacks.map { "  rolled back: \($0)" }
        lines += deploysRefused.map { "  deploy refused: \($0)" }
        lines += deploysRetried.map { "  deploy retried: \($0)" }
        lines += tasksFailed.map { "  task failed: \($0)" }
        lines += deploysFailed.map { "  deploy failed: \($0)" }
        lines += jobsGivenUp.map { "  job given up: \($0)" }
        return lines
    }
}
