import Pipeline
import Specs
import Store

/// One lane of job steps with its own number of slots: a slow coding agent fills the coding lane
/// only, so tests, merges and deploys never wait for it (DESIGN §1, Runtime).
public struct WorkerLane: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var steps: Set<JobStep>
    /// How many of its jobs run at once.
    public var slots: Int
    /// At most one running job per task id — for deploys, one per environment.
    public var onePerTask: Bool

    public init(name: String, steps: Set<JobStep>, slots: Int, onePerTask: Bool = false) {
        self.name = name
        self.steps = steps
        self.slots = max(1, slots)
        self.onePerTask = onePerTask
    }

    public var description: String { "\(name) ×\(slots)" }

    /// Environments deployed at once, each by one job at a time.
    public static let parallelEnvironments = 4

    /// The lanes of a controller for `agents` in devsys.yaml: coding (`agents.coding.parallel`),
    /// testing (`agents.testing.parallel`), merge (one at a time: merges move the trunk), deploy
    /// (one job per environment, environments in parallel).
    public static func lanes(for agents: ProjectConfig.Agents) -> [WorkerLane] {
        [
            WorkerLane(name: "coding", steps: [.coding], slots: agents.coding.parallel),
            WorkerLane(name: "testing", steps: [.testing], slots: agents.testing.parallel),
            WorkerLane(name: "merge", steps: [.merge, .monitor], slots: 1),
            WorkerLane(name: "deploy", steps: [.deploy], slots: parallelEnvironments, onePerTask: true),
        ]
    }
}
