import ControlRepository
import Foundation
import Git
import Specs

/// One coding attempt for a task, as the reconciler asks for it.
public struct CodingRequest: Sendable, Hashable {
    /// The control repository (bare or not); the agent opens its own `Repository` on it.
    public var repositoryPath: String
    public var taskID: String
    public var spec: TaskSpec
    /// `specs/<id>`, relative to the repository root.
    public var specFolder: String
    /// `refs/heads/task/<id>`.
    public var branch: String
    /// Where `branch` is now: the commit checked out, the new commit's parent, and the old value
    /// of the compare-and-swap. When the branch does not exist yet (first attempt), the new commit
    /// still sits on `head` (the trunk commit the task starts from) and the branch is created.
    public var head: ObjectID
    /// 1 for the first attempt.
    public var attempt: Int
    /// What went wrong last time (the failing test report, a reviewer's reason); nil on attempt 1.
    public var feedback: String?
    public var agent: ProjectConfig.CodingAgent
    /// A folder of the task under the state folder; each try of an attempt works in a `checkout-<attempt>-<token>` of its own there.
    public var scratchFolder: URL
    /// How long the coding command may run; see `CodingAgent.timeout(for:agent:)`.
    public var timeout: Duration
    /// Variables given to the coding command on top of the clean base and the `DEVSYS_*` ones —
    /// e.g. the API key a real coding CLI needs, which the operator chose to pass.
    public var environment: [String: String]
    /// Where the command runs; nil: as the controller's own user (`agents.sandbox: false`).
    public var sandbox: AgentSandbox?

    /// `specFolder` defaults to `specs/<taskID>`, `branch` to `refs/heads/task/<taskID>`, `timeout`
    /// to `CodingAgent.timeout(for: spec, agent: agent)`.
    public init(
        repositoryPath: String,
        taskID: String,
        spec: TaskSpec,
        specFolder: String? = nil,
        branch: String? = nil,
        head: ObjectID,
        attempt: Int,
        feedback: String? = nil,
        agent: ProjectConfig.CodingAgent,
        scratchFolder: URL,
        timeout: Duration? = nil,
        environment: [String: String] = [:],
        sandbox: AgentSandbox? = nil
    ) {
        self.repositoryPath = repositoryPath
        self.taskID = taskID
        self.spec = spec
        self.specFolder = specFolder ?? "specs/\(taskID)"
        self.branch = branch ?? ControlRefs.taskBranch(taskID)
        self.head = head
        self.attempt = attempt
        self.feedback = feedback
        self.agent = agent
        self.scratchFolder = scratchFolder
        self.timeout = timeout ?? CodingAgent.timeout(for: spec, agent: agent)
        self.environment = environment
        self.sandbox = sandbox
    }
}

/// How a coding attempt ended.
public enum CodingOutcome: Sendable, Hashable {
    /// The agent's changes are commit `id` on the task branch, which now points at it.
    case committed(ObjectID, changedPaths: [String])
    /// Nothing was committed and the branch did not move. `reason` is one line for people
    /// ("the agent changed protected paths: devsys.yaml"); `log` holds the command, its exit and
    /// the tails of its stdout and stderr.
    case failed(reason: String, log: String)
}
