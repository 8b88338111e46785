import Agents
import Foundation
import Processes
import Specs
import Store

/// How the controller sandboxes its agent steps (DESIGN §5): what an agent must not see, what it
/// gets from the controller's environment, and the sandbox's life with the job's lease — recorded
/// before the step starts, ended by whoever takes the job over.
struct AgentSandboxing {
    let repositoryPath: String
    let state: StateDirectory
    let store: Store
    let worker: String
    var host: SandboxHost { .current }
    var environment: [String: String] { ProcessInfo.processInfo.environment }

    enum Kind: String {
        case coding, testing
    }

    /// The sandbox of one step of `job`, or nil when `agents.sandbox` is false. Throws
    /// `SandboxUnavailable` when one is wanted and this machine cannot make it.
    func plan(_ kind: Kind, job: Job, spec: TaskSpec, config: ProjectConfig) throws -> AgentSandbox? {
        guard config.agents.sandbox else { return nil }
        try host.requireAvailable()
        let network: ProjectConfig.AgentNetwork
        let limits: Sandbox.Limits
        let writable: [String]
        switch kind {
        case .coding:
            network = config.agents.coding.network
            limits = AgentSandbox.limits(for: spec, processes: config.agents.coding.maxProcesses, maxFileMB: config.agents.coding.maxFileMB)
            writable = config.agents.coding.writable
        case .testing:
            network = config.agents.testing.network
            limits = AgentSandbox.limits(for: spec, processes: config.agents.testing.maxProcesses, maxFileMB: nil)
            writable = config.agents.testing.writable
        }
        let hidden = hiddenPaths(config: config)
        // Compared where the links lead: a writable "cache" linked into the state folder is refused.
        let resolvedHidden = hidden.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
        for folder in writable {
            let resolved = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
            if let cover = resolvedHidden.first(where: { resolved == $0 || resolved.hasPrefix($0 + "/") || $0.hasPrefix(resolved + "/") }) {
                throw SandboxUnavailable(
                    misconfigured:
                        "agents.\(kind.rawValue).writable names \(folder), which holds or is inside \(cover), a folder agents may never see; choose a folder of its own"
                )
            }
        }
        return AgentSandbox(
            name: Sandbox.stepName("\(kind.rawValue)-job\(job.id)"),
            hidden: hidden,
            network: network == .none ? .none : .host,
            limits: limits,
            writable: writable
        )
    }

    /// The control repository, the state folder, the controller's home, and every key and
    /// known_hosts file devsys.yaml names.
    func hiddenPaths(config: ProjectConfig) -> [String] {
        var paths = [URL(fileURLWithPath: repositoryPath).standardizedFileURL.path, state.url.path]
        if let home = environment["HOME"], home != "/" { paths.append(home) }
        for host in config.hosts {
            for file in [host.identity, host.knownHosts].compactMap({ $0 }) {
                let expanded = file.hasPrefix("~/") ? (environment["HOME"] ?? "") + file.dropFirst() : file
                if expanded.hasPrefix("/") { paths.append(expanded) }
            }
        }
        return paths
    }

    /// The values of the variables `names` (`agents.<kind>.env`) that the controller has.
    func passedEnvironment(_ names: [String]) -> [String: String] {
        var passed: [String: String] = [:]
        for name in names { passed[name] = environment[name] }
        return passed
    }

    /// Before a step of `job` starts in `sandbox`: ends whatever a predecessor's sandboxes of the
    /// job left running (a controller that crashed or lost its lease), then records this one.
    func begin(_ sandbox: AgentSandbox, job: Job) throws {
        for name in try store.sandboxes(ofJob: job.id) {
            host.cgroups.endAll(named: name)
            try store.forgetSandbox(name)
        }
        try store.recordSandbox(sandbox.name, jobID: job.id, worker: worker)
    }

    /// After the step: its processes have ended (the runner ended each sandbox); forget it.
    func end(_ sandbox: AgentSandbox?) {
        guard let sandbox else { return }
        host.cgroups.endAll(named: sandbox.name)
        try? store.forgetSandbox(sandbox.name)
    }
}
