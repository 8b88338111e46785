import Git

/// Failures of the agents that are not the agent's fault, so not a failed attempt: the reconciler
/// should re-read the state and retry the job.
public enum AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The task branch is not where the request said: someone pushed to it meanwhile.
    case branchMoved(branch: String, expected: ObjectID, found: ObjectID?)
    /// A file of the scratch or reports folder could not be written or removed.
    case scratchFolder(path: String, message: String)

    public var description: String {
        switch self {
        case .branchMoved(let branch, let expected, let found):
            "\(branch) is \(found.map { "at \($0)" } ?? "gone"), expected it at \(expected): someone moved it; re-read the branch and retry"
        case .scratchFolder(let path, let message):
            "cannot write \(path): \(message); check the state folder's disk space and permissions"
        }
    }
}
