import Foundation
import Processes
import Specs

/// What an agent step's sandbox is made of, as the controller decides it: the step's name (its
/// cgroup, recorded with the job's lease), what the agent must not see, its network and limits.
/// The agent adds the folders it works in as the writable ones.
public struct AgentSandbox: Sendable, Hashable {
    public var name: String
    /// The control repository, the state folder, the controller's home, SSH keys.
    public var hidden: [String]
    public var network: Sandbox.Network
    public var limits: Sandbox.Limits
    /// Folders the operator let agents write to (`agents.<kind>.writable`).
    public var writable: [String]

    public init(name: String, hidden: [String], network: Sandbox.Network, limits: Sandbox.Limits, writable: [String] = []) {
        self.name = name
        self.hidden = hidden
        self.network = network
        self.limits = limits
        self.writable = writable
    }

    /// The limits of a task's agent steps: the spec's `resource_requirements` (memory, cpus),
    /// the agent's process count and, for the coding agent, its largest file.
    public static func limits(for spec: TaskSpec, processes: Int, maxFileMB: Int?) -> Sandbox.Limits {
        Sandbox.Limits(
            memoryBytes: spec.resources.memoryMB * 1_048_576,
            cpus: spec.resources.cpus,
            processes: processes,
            // One byte over the limit is allowed to be written, so that the attempt can say the
            // file is over it rather than the agent dying of SIGXFSZ with the file just at it.
            fileBytes: maxFileMB.map { $0 * 1_048_576 + 1 }
        )
    }

    /// The sandbox of one process of the step, writing to `writable`.
    func sandbox(writable: [URL], suffix: String? = nil) -> Sandbox {
        Sandbox(
            name: suffix.map { "\(name)-\($0)" } ?? name,
            writable: writable.map(\.path) + self.writable,
            hidden: hidden,
            network: network,
            limits: limits
        )
    }

    /// Why a process of the step went wrong because of its sandbox, in words for the attempt's reason.
    func memoryReason() -> String {
        "it went over its memory limit of \((limits.memoryBytes ?? 0) / 1_048_576) MB (resource_requirements.memory_mb in task.yaml) and the kernel killed it"
    }
}
