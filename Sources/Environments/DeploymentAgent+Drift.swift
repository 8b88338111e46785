import ControlRepository
import Deploy
import Foundation
import Git
import Store

/// Drift (DESIGN §5): a host whose `current` is not the commit its environment's ref names —
/// someone switched it by hand, restored a backup, or a deploy died half-way. Each drifted host is
/// an event, and the environment's deploy job runs again, which brings every host back.
extension DeploymentAgent {
    /// One host that serves something else than its environment's ref.
    public struct Drift: Sendable, Hashable {
        public var environment: String
        public var host: String
        public var app: String
        /// What the host serves (the commit of `current`); nil when nothing or unreadable.
        public var serves: String?
        public var expected: String
        /// Set when the host could not be read.
        public var error: String?
    }

    /// Reads `current` on every host of each settled environment (its ref equals what devsys last
    /// brought it to) and returns the hosts that differ. An unreachable host is reported as drift
    /// with its error, but no deploy is queued for it (the deploy would fail the same way).
    public func findDrift() throws -> [Drift] {
        let repository = try Repository.open(at: repositoryPath)
        var found: [Drift] = []
        for reference in try repository.references(withPrefix: ControlRefs.environmentPrefix) {
            let environment = String(reference.name.dropFirst(ControlRefs.environmentPrefix.count))
            guard try liveCommit(environment) == reference.target, let plan = try? plan(environment, repository: repository) else { continue }
            for target in try targets(plan, actor: "devsys") {
                do {
                    let live = try target.deployer.current()
                    if live?.commit != reference.target {
                        found.append(
                            Drift(
                                environment: environment,
                                host: target.deployer.host,
                                app: target.deployer.app,
                                serves: live?.commit.hex,
                                expected: reference.target.hex
                            )
                        )
                    }
                } catch {
                    found.append(
                        Drift(
                            environment: environment,
                            host: target.deployer.host,
                            app: target.deployer.app,
                            serves: nil,
                            expected: reference.target.hex,
                            error: "\(error)"
                        )
                    )
                }
            }
        }
        return found
    }

    /// Finds drift, records each drifted host as a `drift.detected` event and queues the deploy that
    /// heals its environment (the store's "live" is cleared, so the reconciler sees a difference).
    /// Returns what was found.
    @discardableResult
    public func healDrift() throws -> [Drift] {
        let drift = try findDrift()
        let healable = Set(drift.filter { $0.error == nil }.map(\.environment))
        try store.transaction { transaction in
            for item in drift {
                try transaction.appendEvent(
                    taskID: nil,
                    kind: item.error == nil ? .driftDetected : .driftUnreachable,
                    message: item.error.map { "\(item.environment)/\(item.host): cannot read the live revision: \($0)" }
                        ?? "\(item.environment)/\(item.host): serves \(item.serves.map { String($0.prefix(12)) } ?? "nothing"), "
                        + "expected \(item.expected.prefix(12)); redeploying",
                    data: ["env": item.environment, "host": item.host, "serves": item.serves ?? "", "expected": item.expected]
                )
            }
            for environment in healable {
                try transaction.setValue(nil, forKey: Self.liveKey(environment))
            }
        }
        return drift
    }
}
