/// Where a task is in its lifecycle (contract names, DESIGN §4):
/// `queued → coding → testing → review → merged → deploying → deployed`, plus `failed`, `rejected`
/// and `cancelled`.
public enum TaskState: String, Codable, Sendable, CaseIterable {
    case queued, coding, testing, review, merged, deploying, deployed, failed, rejected, cancelled

    /// Whether the task is finished: no job will move it again unless a user retries it.
    public var isTerminal: Bool {
        switch self {
        case .deployed, .failed, .rejected, .cancelled: true
        case .queued, .coding, .testing, .review, .merged, .deploying: false
        }
    }
}
