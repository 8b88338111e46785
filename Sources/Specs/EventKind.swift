/// What an event of the controller's log says happened: the `kind` that `devsys events` prints,
/// and the names `notifications[].events` in devsys.yaml subscribes to (validated against these).
public enum EventKind: String, CaseIterable, Sendable, Codable {
    // Tasks
    case taskCreated = "task.created"
    /// A task changed state (`from`, `to`, `reason` in the data).
    case taskState = "task.state"
    case taskReindexed = "task.reindexed"
    case taskCancelled = "task.cancelled"
    /// A follow-up task opened by the monitoring agent (announced; emitted once monitoring lands).
    case taskFollowup = "task.followup"
    case specUpdated = "spec.updated"
    case specInvalid = "spec.invalid"

    // Agents and reviews
    case codingCommitted = "coding.committed"
    case codingFailed = "coding.failed"
    case testsPassed = "tests.passed"
    case testsFailed = "tests.failed"
    case reviewApproved = "review.approved"

    // Environments
    case deploySucceeded = "deploy.succeeded"
    case deployFailed = "deploy.failed"
    case deployRefused = "deploy.refused"
    case deployPromoted = "deploy.promoted"
    /// A deploy attempt the infrastructure stopped (before any switch, or an outage during
    /// verification, with every host put back); nothing is marked bad, it is retried.
    case deployError = "deploy.error"
    case deployGaveUp = "deploy.gave-up"
    /// An environment was put back on an earlier deploy: `devsys rollback`, or its env ref pushed
    /// to an earlier deploy's commit (`from`, `to`, `tasks` taken off in the data).
    case rollback
    case driftDetected = "drift.detected"
    case driftUnreachable = "drift.unreachable"

    // The job queue and the controller
    case jobRetry = "job.retry"
    case jobDead = "job.dead"
    case jobRequeued = "job.requeued"
    case jobRestarted = "job.restarted"
    case jobHandedBack = "job.handed-back"
    case controllerReclaimed = "controller.reclaimed"
}
