import ControlRepository
import Environments
import Foundation
import Git
import Hosts
import Pipeline
import Processes
import Specs
import Store

/// The control plane of one control repository: every action a person takes — submit a spec,
/// retry, cancel, approve, reject, merge, deploy, rollback — and every read a client shows —
/// tasks, a task with its history, its report, pull requests with their diff, environments,
/// revisions, status, events, audit — as one `async` operation each.
///
/// The CLI calls it today; the HTTP API, the monitor and the notifier are the next callers. None
/// of them checks a role or builds a view itself: each operation takes the actor, checks its role
/// and writes its audit row (refusals included). Errors are `DomainError`s, with a stable code and
/// a category. Blocking work (libgit2, SQLite, the hosts) runs on the blocking pool.
public struct ControlPlane: Sendable {
    public let repositoryPath: String
    public let state: StateDirectory
    public let store: Store
    /// Open transports to the hosts, shared with the controller when it runs in this process.
    public let connections: HostConnections

    /// - Throws: `GitError` when the repository cannot be opened.
    public init(repositoryPath: String, state: StateDirectory, store: Store, connections: HostConnections? = nil) throws {
        self.repositoryPath = repositoryPath
        self.state = state
        self.store = store
        self.connections = try connections ?? HostConnections(repository: Repository.open(at: repositoryPath))
    }

    var agent: DeploymentAgent { DeploymentAgent(repositoryPath: repositoryPath, store: store, connections: connections) }
    var reviews: Reviews { Reviews(repositoryPath: repositoryPath, store: store) }

    func repository() throws -> Repository { try Repository.open(at: repositoryPath) }

    /// Runs an action on the blocking pool with its audit row (`Store.audited`).
    func act<T: Sendable>(
        _ actor: Principal,
        _ action: String,
        target: String,
        outcome: @escaping @Sendable (T) -> String = { _ in "ok" },
        _ body: @escaping @Sendable (inout String) throws -> T
    ) async throws -> T {
        try await offload { [store] in try store.audited(actor, action, target: target, outcome: outcome, body) }
    }

    /// Runs a read on the blocking pool after checking that the actor may read (`viewer`); a
    /// refused read is audited.
    func read<T: Sendable>(_ actor: Principal, _ what: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await offload { [store] in
            do {
                try actor.require(.viewer, to: "read \(what)")
            } catch {
                _ = try? store.appendAudit(actor: actor, action: "read", target: what, outcome: Store.auditOutcome(of: error))
                throw error
            }
            return try body()
        }
    }
}
