import Specs
import Store

/// Why a step of the pipeline, or a person's action on a task, cannot go ahead.
public enum PipelineError: DomainError {
    /// devsys.yaml on the trunk (at this commit) is missing or invalid.
    case invalidConfig(String)
    /// The spec of this task is missing or invalid on the trunk (at this commit).
    case invalidSpec(String, String)
    case unknownTask(String)
    /// The task is in this state; the action needs it `expected`.
    case wrongState(String, TaskState, expected: String)
    case noBranch(String)
    /// `review: required`, and the branch's head has no approval.
    case notApproved(String)
    /// The task branch moved since it was tested.
    case branchMoved(String)
    /// The trunk moved under every merge attempt.
    case trunkKeepsMoving(String)

    public var code: String {
        switch self {
        case .invalidConfig: "config_invalid"
        case .invalidSpec: "trunk_spec_invalid"
        case .unknownTask: "task_not_found"
        case .wrongState: "task_wrong_state"
        case .noBranch: "task_branch_not_found"
        case .notApproved: "pr_not_approved"
        case .branchMoved: "task_branch_moved"
        case .trunkKeepsMoving: "trunk_keeps_moving"
        }
    }

    public var category: ErrorCategory {
        switch self {
        case .invalidConfig, .invalidSpec: .failed
        case .unknownTask, .noBranch: .notFound
        case .wrongState, .notApproved, .branchMoved, .trunkKeepsMoving: .conflict
        }
    }

    public var description: String {
        switch self {
        case .invalidConfig(let commit):
            "devsys.yaml on the trunk (\(commit)) is missing or invalid"
        case .invalidSpec(let id, let commit):
            "the spec of \(id) is missing or invalid on the trunk (\(commit))"
        case .unknownTask(let id):
            "no task \(id)"
        case .wrongState(let id, let state, let expected):
            "task \(id) is \(state.rawValue); this needs it \(expected)"
        case .noBranch(let id):
            "task \(id) has no branch task/\(id) yet"
        case .notApproved(let id):
            "task \(id) needs an approval of its branch's head first"
        case .branchMoved(let id):
            "task/\(id) moved since it was tested; it will be tested again before it can merge"
        case .trunkKeepsMoving(let id):
            "the trunk kept moving while merging task/\(id); try again"
        }
    }
}
