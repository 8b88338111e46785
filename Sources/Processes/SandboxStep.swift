import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One step's sandbox from its start to its end: its cgroup made with the limits and its writable
/// folders handed to the agents' uid before the start; afterwards whatever is left in the cgroup
/// killed and the cgroup removed.
struct SandboxStep: Sendable {
    let sandbox: Sandbox
    let host: SandboxHost
    let launch: SandboxLaunch

    /// Throws `SandboxUnavailable` when this machine cannot make a sandbox, and
    /// `ProcessRunnerError.system` when the cgroup or the folders cannot be prepared.
    static func prepare(_ sandbox: Sandbox, host: SandboxHost) throws -> SandboxStep {
        try host.requireAvailable()
        if host.runsAsRoot {
            for folder in sandbox.writable { try handOver(folder) }
        }
        // A predecessor of the same name (a takeover) is ended first.
        host.cgroups.end(sandbox.name)
        let procs: [String]
        do {
            procs = try host.cgroups.create(sandbox.name, limits: sandbox.limits)
        } catch {
            host.cgroups.end(sandbox.name)
            throw error
        }
        return SandboxStep(sandbox: sandbox, host: host, launch: SandboxLaunch(host: host, sandbox: sandbox, procs: procs))
    }

    /// Ends everything the step left and removes its cgroup. Returns whether the kernel killed a
    /// process of it for its memory.
    @discardableResult
    func finish() -> Bool {
        let overMemory = host.cgroups.oomKills(sandbox.name) > 0
        host.cgroups.end(sandbox.name)
        return overMemory
    }

    /// Makes `folder` and everything in it the agents' uid's, so that `nobody` may write there.
    /// Names are read as bytes (readdir), so every file is reached whatever its name.
    static func handOver(_ folder: String) throws {
        guard lchown(folder, Sandbox.agentUID, Sandbox.agentGID) == 0 else { throw ProcessRunnerError.failure("chown \(folder)") }
        var info = stat()
        guard lstat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return }
        guard let directory = opendir(folder) else { throw ProcessRunnerError.failure("opendir \(folder)") }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            var path = Array(folder.utf8) + [UInt8(ascii: "/")] + name
            path.append(0)
            let child = path.withUnsafeBufferPointer { String(decoding: $0.dropLast(), as: UTF8.self) }
            if name.allSatisfy({ $0 < 0x80 }) || String(validating: name, as: UTF8.self) != nil {
                try handOver(child)
            } else {
                // Not UTF-8: chown by the exact bytes; a folder of that name is left as it is.
                _ = path.withUnsafeBufferPointer {
                    $0.withMemoryRebound(to: CChar.self) { lchown($0.baseAddress!, Sandbox.agentUID, Sandbox.agentGID) }
                }
            }
        }
    }
}
