/// What kind of failure a domain error is. The category alone decides the CLI's exit status, the
/// HTTP API's status and whether the audit log says `refused` or `failed`; each of those mappings
/// is written once, beside its caller.
public enum ErrorCategory: String, Sendable, Codable, CaseIterable {
    /// The request itself is wrong: a bad spec, an unknown revision, an impossible option.
    case invalid
    /// What it names does not exist: a task, an environment, a deploy tag.
    case notFound = "not_found"
    /// The actor's role (or scope) is too low.
    case forbidden
    /// The request is fine but the state forbids it now: the task is in another state, a ref
    /// moved, a commit is marked bad, a controller holds the lock.
    case conflict
    /// Something devsys depends on did not answer: a host, the store, the controller.
    case unavailable
    /// It was tried and went wrong.
    case failed

    /// Whether an action ending with this error declined to act (`refused: …` in the audit log)
    /// rather than failing part-way (`failed: …`).
    public var isRefusal: Bool {
        switch self {
        case .invalid, .notFound, .forbidden, .conflict: true
        case .unavailable, .failed: false
        }
    }
}

/// An error of the domain that callers other than a person at a terminal branch on: it carries a
/// stable `code` (snake_case, never reworded: `task_not_found`, `env_ref_moved`) and a category.
/// Its `description` says what was wrong and where, in the domain's words; remedies that are CLI
/// commands are added by the CLI, so the HTTP API never tells a client to run a command.
public protocol DomainError: Error, CustomStringConvertible, Sendable {
    var code: String { get }
    var category: ErrorCategory { get }
}
