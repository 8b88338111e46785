import Foundation

/// Where an agent's processes run (DESIGN §5 "Sandbox"): bubblewrap namespaces over a read-only
/// view of this machine, with a few folders writable, the controller's own files hidden, and
/// limits enforced by a cgroup of the step's own.
///
/// A `Sandbox` says what one step may touch; ``SandboxHost`` says how this machine builds it.
/// `ProcessRunner` runs an invocation inside when the invocation carries one.
public struct Sandbox: Sendable, Hashable {
    public enum Network: String, Sendable, Hashable {
        /// A network namespace of its own: loopback only, nothing outside.
        case none
        /// The machine's network (a coding CLI calling its model's API).
        case host
    }

    /// What the step's processes may use at once.
    public struct Limits: Sendable, Hashable {
        /// Memory of all its processes together; the kernel kills one when it goes over.
        public var memoryBytes: Int?
        /// CPU time per wall-clock second (1.5 = one and a half cores).
        public var cpus: Double?
        /// Processes and threads at once (a fork bomb stops here).
        public var processes: Int?
        /// Largest file a process may write (`RLIMIT_FSIZE`).
        public var fileBytes: Int?

        public init(memoryBytes: Int? = nil, cpus: Double? = nil, processes: Int? = nil, fileBytes: Int? = nil) {
            self.memoryBytes = memoryBytes
            self.cpus = cpus
            self.processes = processes
            self.fileBytes = fileBytes
        }
    }

    /// The step's name on this machine: its cgroup is `devsys/<name>`. Recorded with the job's
    /// lease, so a controller taking the job over can end what the step left running.
    public var name: String
    /// Absolute folders bound read-write at their own path (the checkout, its JUnit folder).
    public var writable: [String]
    /// Absolute paths the sandbox must not see: folders become empty, files vanish (the control
    /// repository, the state folder, the controller's home, SSH keys).
    public var hidden: [String]
    public var network: Network
    public var limits: Limits

    public init(name: String, writable: [String], hidden: [String], network: Network, limits: Limits) {
        self.name = name
        self.writable = writable
        self.hidden = hidden
        self.network = network
        self.limits = limits
    }

    /// A fresh step name: `<prefix>-<8 random hex digits>`, safe as a cgroup folder name.
    public static func stepName(_ prefix: String) -> String {
        let safe = String(prefix.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }.prefix(64))
        return "\(safe)-\(String(UInt32.random(in: .min ... .max), radix: 16))"
    }

    /// The uid and gid agents run as when the controller is root: `nobody`, owning nothing.
    public static let agentUID: UInt32 = 65534
    public static let agentGID: UInt32 = 65534
    /// `HOME` inside: the sandbox's private `/tmp`.
    public static let home = "/tmp"
}

/// Why an agent cannot be run in a sandbox: this machine cannot make one, or devsys.yaml asks for
/// one that would not contain it.
public struct SandboxUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    /// This machine cannot make a sandbox, because of `reason`.
    public init(_ reason: String) {
        description =
            "agents run in a sandbox, and none can be made here: \(reason). Install Debian's bubblewrap (apt-get install bubblewrap) "
            + "and allow user namespaces, or set 'agents: { sandbox: false }' in devsys.yaml to run agents as the controller's own user "
            + "(they can then read and change everything the controller can)"
    }

    /// devsys.yaml asks for a sandbox that would not contain the agent.
    public init(misconfigured message: String) {
        description = message
    }
}
