import Foundation

/// Who takes an action — the "actor" of DESIGN §1 and §6, named `Principal` because `Actor` is
/// Swift's: a person (from `--as`, the git identity, or an API token) or the controller itself.
/// Every domain operation takes one and writes it into its audit row.
public struct Principal: Sendable, Codable, Hashable, CustomStringConvertible {
    /// What an actor may do; each role includes the ones before it.
    public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
        case viewer, developer, deployer, admin
        /// The controller acting on its own (auto-merge, auto-deploy, drift healing).
        case controller

        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

        private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    }

    /// A name people recognise: `Ada Lovelace <ada@example.com>`, a token's name, or `devsys`.
    public var name: String
    public var role: Role

    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }

    /// The controller itself, for what it does without being asked.
    public static let controller = Principal(name: "devsys", role: .controller)

    public var description: String { name }
}

extension Store {
    /// Appends an entry to the audit log for `actor`.
    @discardableResult
    public func appendAudit(actor: Principal, action: String, target: String, outcome: String, at date: Date = .now) throws -> AuditEntry {
        try appendAudit(actor: actor.name, role: actor.role.rawValue, action: action, target: target, outcome: outcome, at: date)
    }
}

extension Store.Transaction {
    /// Appends an entry to the audit log for `actor`, in this transaction.
    @discardableResult
    public func appendAudit(actor: Principal, action: String, target: String, outcome: String, at date: Date = .now) throws -> AuditEntry {
        try appendAudit(actor: actor.name, role: actor.role.rawValue, action: action, target: target, outcome: outcome, at: date)
    }
}
