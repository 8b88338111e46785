import Foundation
import Specs
import Store

/// Why the control plane declined an action before trying it.
public enum ActionRefusal: DomainError, Equatable {
    /// The actor's role is below what the action needs.
    case roleTooLow(actor: String, role: Principal.Role, needed: Principal.Role, action: String)
    /// A revision given to deploy does not name a commit.
    case unknownRevision(String, reason: String)
    /// The task was cancelled; retrying it makes no sense.
    case cancelled(taskID: String, reason: String?)
    /// The task is past the point where cancelling it takes anything back.
    case cannotCancel(taskID: String, state: TaskState)

    public var code: String {
        switch self {
        case .roleTooLow: "role_too_low"
        case .unknownRevision: "revision_not_found"
        case .cancelled: "task_cancelled"
        case .cannotCancel: "task_not_cancellable"
        }
    }

    public var category: ErrorCategory {
        switch self {
        case .roleTooLow: .forbidden
        case .unknownRevision: .notFound
        case .cancelled, .cannotCancel: .conflict
        }
    }

    public var description: String {
        switch self {
        case .roleTooLow(let actor, let role, let needed, let action):
            "\(actor) (role \(role.rawValue)) may not \(action): that needs the role \(needed.rawValue) or higher"
        case .unknownRevision(let revision, let reason):
            "cannot resolve '\(revision)': \(reason)"
        case .cancelled(let id, let reason):
            "task \(id) is cancelled" + (reason.map { " (\($0))" } ?? "")
                + "; a change to specs/\(id)/task.yaml on the trunk starts it again"
        case .cannotCancel(let id, let state):
            state == .cancelled
                ? "task \(id) is already cancelled"
                : "task \(id) is \(state.rawValue): its change is on the trunk already; a revert of the merge takes it back"
        }
    }
}

extension Principal {
    /// Refuses the action unless this actor's role is at least `needed` (the controller's always is).
    func require(_ needed: Role, to action: String) throws {
        guard role >= needed else { throw ActionRefusal.roleTooLow(actor: name, role: role, needed: needed, action: action) }
    }
}

extension Principal.Role {
    /// The role devsys.yaml names (`environments.<env>.approval`).
    init(_ role: ProjectConfig.Role) {
        self = Principal.Role(rawValue: role.rawValue) ?? .admin
    }
}
