import Foundation
import Specs

extension Store {
    /// Runs one actor's action and writes its audit row however it ends: what `outcome` says of
    /// the result (`ok` by default), or `refused: …` / `failed: …` when it throws (`auditOutcome(of:)`).
    /// `body` may make the target more precise as it learns it (an environment's commit, a task's head).
    public func audited<T>(
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
            _ = try? appendAudit(actor: actor, action: action, target: target, outcome: Self.auditOutcome(of: error))
            throw error
        }
        try appendAudit(actor: actor, action: action, target: target, outcome: outcome(result))
        return result
    }

    /// How an error ends an action in its audit row: `refused: …` when its category says the
    /// action declined to act (invalid, not found, forbidden, conflict), else `failed: …`.
    public static func auditOutcome(of error: any Error) -> String {
        let text = "\(error)".replacingOccurrences(of: "\n", with: " ")
        let refused = (error as? any DomainError)?.category.isRefusal ?? false
        return (refused ? "refused: " : "failed: ") + text
    }
}
