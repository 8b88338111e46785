import Actions
import Environments
import Runtime
import Store

extension ControlPlane {
    /// A deploy, followed to its end (run here when no controller runs), as the CLI does it.
    func deployed(
        environment: String,
        revision: String? = nil,
        force: Bool = false,
        by actor: Principal
    ) async throws -> DeploymentAgent.Report {
        try await follow(deploy(environment: environment, revision: revision, force: force, by: actor))
    }

    /// A rollback, followed to its end.
    func rolledBack(environment: String, to target: RollbackTarget = .stepsBack(1), by actor: Principal) async throws -> DeploymentAgent.Report {
        try await follow(rollback(environment: environment, to: target, by: actor))
    }
}

extension Controller {
    /// A person's deploy through this controller's control plane, run by this controller's lanes
    /// (one round of due jobs), as `devsys deploy` beside a running `devsys serve`.
    func deployed(environment: String, force: Bool = false, by actor: Principal) async throws -> DeploymentAgent.Report {
        let plane = try controlPlane
        let handle = try await plane.deploy(environment: environment, force: force, by: actor)
        _ = try await runDueJobs()
        return try await plane.follow(handle)
    }

    /// A person's rollback, the same way.
    func rolledBack(environment: String, by actor: Principal) async throws -> DeploymentAgent.Report {
        let plane = try controlPlane
        let handle = try await plane.rollback(environment: environment, by: actor)
        _ = try await runDueJobs()
        return try await plane.follow(handle)
    }
}
