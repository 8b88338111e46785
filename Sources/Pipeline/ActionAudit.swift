import Foundation
import Git
import Specs
import Store

/// Why a domain operation declined to act (as opposed to failing): its audit row says
/// `refused: <description>`. `PipelineError`'s state errors and `DeployCommandError` are refusals too.
public enum ActionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The actor's role is below what the action needs.
    case roleTooLow(actor: String, role: Principal.Role, needed: Principal.Role, action: String)
    /// A revision given to deploy does not name a commit.
    case unknownRevision(String, reason: String)
    /// The task was cancelled; retrying it makes no sense.
    case cancelled(taskID: String, reason: String?)
    /// The task is past the point where cancelling it takes anything back.
    case cannotCancel(taskID: String, state: TaskState)

    public var description: String {
        switch self {
        case .roleTooLow(let actor, let role, let needed, let action):
            "\(actor) (role \(role.rawValue)) may not \(action): that needs the role \(needed.rawValue) or higher"
        case .unknownRevision(let revision, let reason):
            "cannot resolve '\(revision)': \(reason)"
        case .cancelled(let id, let reason):
            "task \(id) is cancelled" + (reason.map { " (\($0))" } ?? "")
                + "; commit a change to specs/\(id)/task.yaml on the trunk to start it again"
        case .cannotCancel(let id, let state):
            state == .cancelled
                ? "task \(id) is already cancelled"
                : "task \(id) is \(state.rawValue): its change is on the trunk already; revert the merge with git to take it back"
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

/// How an error ends an action in its audit row: `refused: …` or `failed: …`.
func auditOutcome(of error: any Error) -> String {
    let text = "\(error)".replacingOccurrences(of: "\n", with: " ")
    switch error {
    case is ActionRefusal, is DeployCommandError: return "refused: \(text)"
    case let error as PipelineError:
        switch error {
        case .unknownTask, .wrongState, .noBranch, .notApproved, .branchMoved, .badCommit: return "refused: \(text)"
        case .invalidConfig, .invalidSpec, .trunkKeepsMoving: return "failed: \(text)"
        }
    default: return "failed: \(text)"
    }
}

extension Store {
    /// Runs one actor's action and writes its audit row however it ends: what `outcome` says of
    /// the result (`ok` by default), `refused: …` or `failed: …` when it throws. `body` may make
    /// the target more precise as it learns it (an environment's commit, a task's head).
    func audited<T>(
        _ actor: Principal,
        _ action: String,
        target: String,
        outcome: (T) -> String = { _ in "ok" },
        _ body: (inout String) throws -> T
    ) throws -> T {
        var target = target
        let result: T
        do {
            result = try body(&target)
        } catch {
            _ = try? appendAudit(actor: actor, action: action, target: target, outcome: auditOutcome(of: error))
            throw error
        }
        try appendAudit(actor: actor, action: action, target: target, outcome: outcome(result))
        return result
    }
}

extension Signature {
    /// The signature for an actor's name: `Ada Lovelace <ada@example.com>` gives that name and
    /// address; a name without one (`devsys`, a token's name) gets `devsys@localhost`.
    init(actor: String) {
        if actor.hasSuffix(">"), let open = actor.lastIndex(of: "<") {
            let name = actor[..<open].trimmingCharacters(in: .whitespaces)
            let email = actor[actor.index(after: open)..<actor.index(before: actor.endIndex)].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty, !email.isEmpty, !name.contains("<"), !name.contains(">") {
                self.init(name: name, email: email)
                return
            }
        }
        self.init(name: actor.replacingOccurrences(of: "<", with: "").replacingOccurrences(of: ">", with: ""), email: "devsys@localhost")
    }
}
