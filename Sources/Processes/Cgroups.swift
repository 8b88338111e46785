import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cgroup hierarchy this machine offers the sandbox: v2 where `/sys/fs/cgroup` is the unified
/// hierarchy, else v1's `memory`, `pids` and `cpu` controllers, each under a `devsys/` folder of
/// its own. Steps get a cgroup `devsys/<step>` that holds their limits and every process they start.
public enum Cgroups: Sendable, Hashable {
    /// The unified hierarchy: `<root>/devsys/<step>/`, with the controllers (of memory, pids,
    /// cpu) this kernel offers enabled for it.
    case v2(root: String, controllers: Set<String>)
    /// One folder per controller: `<memory>/devsys/<step>/`, the same under `pids` and `cpu`.
    case v1(memory: String?, pids: String?, cpu: String?)
    /// None that devsys may write to, and why: limits fall back to rlimits.
    case unavailable(String)

    static let mount = "/sys/fs/cgroup"
    static let parent = "devsys"

    /// "v2", "v1 (memory, pids, cpu)", "none: …".
    public var summary: String {
        switch self {
        case .v2(let root, let controllers): "v2 at \(root) (\(controllers.sorted().joined(separator: ", ")))"
        case .v1(let memory, let pids, let cpu):
            "v1 (" + [memory.map { _ in "memory" }, pids.map { _ in "pids" }, cpu.map { _ in "cpu" }].compactMap { $0 }.joined(separator: ", ") + ")"
        case .unavailable(let reason): "none: \(reason)"
        }
    }

    public var limitsMemory: Bool {
        switch self {
        case .v2(_, let controllers): controllers.contains("memory")
        case .v1(let memory, _, _): memory != nil
        case .unavailable: false
        }
    }

    public var limitsProcesses: Bool {
        switch self {
        case .v2(_, let controllers): controllers.contains("pids")
        case .v1(_, let pids, _): pids != nil
        case .unavailable: false
        }
    }

    /// Finds the hierarchy and makes sure devsys can make cgroups in it (creating `devsys/`, and on
    /// v2 enabling the memory, pids and cpu controllers for it).
    static func detect() -> Cgroups {
        let manager = FileManager.default
        if let offered = try? String(contentsOfFile: "\(mount)/cgroup.controllers", encoding: .utf8) {
            let controllers = Set(offered.split(whereSeparator: \.isWhitespace).map(String.init)).intersection(["memory", "pids", "cpu"])
            let folder = "\(mount)/\(parent)"
            guard mkdirIfNeeded(folder) else { return .unavailable("cannot create \(folder): \(String(cString: strerror(errno)))") }
            let enable = controllers.sorted().map { "+\($0)" }.joined(separator: " ")
            // Controllers must be enabled on every level above the step's cgroup.
            for level in [mount, folder] where !enable.isEmpty {
                if write(enable, to: "\(level)/cgroup.subtree_control") { continue }
                // A cgroup with processes of its own cannot enable controllers for its children
                // (in a container, the root holds every process): they move to a leaf first.
                guard errno == EBUSY, moveProcesses(of: level, to: "\(level)/devsys-processes"), write(enable, to: "\(level)/cgroup.subtree_control")
                else {
                    return .unavailable("cannot enable \(enable) in \(level)/cgroup.subtree_control: \(String(cString: strerror(errno)))")
                }
            }
            return .v2(root: folder, controllers: controllers)
        }
        func controller(_ name: String) -> String? {
            let base = "\(mount)/\(name)"
            guard manager.fileExists(atPath: "\(base)/cgroup.procs") else { return nil }
            let folder = "\(base)/\(parent)"
            return mkdirIfNeeded(folder) ? folder : nil
        }
        let memory = controller("memory")
        let pids = controller("pids")
        let cpu = controller("cpu")
        if memory == nil && pids == nil && cpu == nil {
            return .unavailable(
                manager.fileExists(atPath: mount)
                    ? "no memory, pids or cpu controller under \(mount) that this user may write to" : "\(mount) is not mounted"
            )
        }
        return .v1(memory: memory, pids: pids, cpu: cpu)
    }

    /// The folders of step `name`'s cgroup (one per v1 controller).
    func folders(of name: String) -> [String] {
        switch self {
        case .v2(let root, _): ["\(root)/\(name)"]
        case .v1(let memory, let pids, let cpu): [memory, pids, cpu].compactMap { $0.map { "\($0)/\(name)" } }
        case .unavailable: []
        }
    }

    /// Creates step `name`'s cgroup with `limits`. Returns the `cgroup.procs` files a process
    /// writes its pid to, to join. Throws `ProcessRunnerError.system` when a folder or limit
    /// cannot be written.
    func create(_ name: String, limits: Sandbox.Limits) throws -> [String] {
        var procs: [String] = []
        for folder in folders(of: name) {
            guard Self.mkdirIfNeeded(folder) else { throw ProcessRunnerError.failure("mkdir \(folder)") }
            procs.append("\(folder)/cgroup.procs")
        }
        for (file, value) in settings(for: name, limits: limits) {
            // memory.memsw (swap) is optional in v1; every other limit must hold.
            guard Self.write(value, to: file) || file.hasSuffix("memsw.limit_in_bytes") || file.hasSuffix("swap.max") else {
                throw ProcessRunnerError.failure("writing \(value) to \(file)")
            }
        }
        return procs
    }

    /// The files and values that set `limits` on step `name`'s cgroup.
    func settings(for name: String, limits: Sandbox.Limits) -> [(String, String)] {
        let period = 100_000
        switch self {
        case .v2(let root, let controllers):
            let folder = "\(root)/\(name)"
            var settings: [(String, String)] = []
            if let bytes = limits.memoryBytes, controllers.contains("memory") {
                settings += [("\(folder)/memory.max", String(bytes)), ("\(folder)/memory.swap.max", "0")]
            }
            if let processes = limits.processes, controllers.contains("pids") { settings.append(("\(folder)/pids.max", String(processes))) }
            if let cpus = limits.cpus, controllers.contains("cpu") {
                settings.append(("\(folder)/cpu.max", "\(max(1000, Int(cpus * Double(period)))) \(period)"))
            }
            return settings
        case .v1(let memory, let pids, let cpu):
            var settings: [(String, String)] = []
            if let memory, let bytes = limits.memoryBytes {
                // The plain limit first: memsw may never be below it.
                settings += [
                    ("\(memory)/\(name)/memory.limit_in_bytes", String(bytes)), ("\(memory)/\(name)/memory.memsw.limit_in_bytes", String(bytes)),
                ]
            }
            if let pids, let processes = limits.processes { settings.append(("\(pids)/\(name)/pids.max", String(processes))) }
            if let cpu, let cpus = limits.cpus {
                settings += [
                    ("\(cpu)/\(name)/cpu.cfs_period_us", String(period)),
                    ("\(cpu)/\(name)/cpu.cfs_quota_us", String(max(1000, Int(cpus * Double(period))))),
                ]
            }
            return settings
        case .unavailable:
            return []
        }
    }

    /// How many processes the kernel killed for going over step `name`'s memory limit.
    func oomKills(_ name: String) -> Int {
        let file: String
        switch self {
        case .v2(let root, _): file = "\(root)/\(name)/memory.events"
        case .v1(let memory?, _, _): file = "\(memory)/\(name)/memory.oom_control"
        default: return 0
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "oom_kill", let count = Int(fields[1]) { return count }
        }
        return 0
    }

    /// Kills every process left in step `name`'s cgroup and removes it; a cgroup that is gone
    /// already is fine. A cgroup its last processes are still leaving (they take a moment after
    /// SIGKILL or their exit) is removed by a thread of its own, so that a step's end never
    /// waits for the kernel's bookkeeping.
    public func end(_ name: String) {
        for folder in folders(of: name) where FileManager.default.fileExists(atPath: folder) {
            if case .v2 = self { _ = Self.write("1", to: "\(folder)/cgroup.kill") }
            // v1 (and v2 kernels before 5.14): kill what is listed until nothing is.
            for _ in 0..<100 {
                let pids = Self.pids(in: folder)
                if pids.isEmpty { break }
                for pid in pids { kill(pid, SIGKILL) }
                usleep(1_000)
            }
            if rmdir(folder) != 0 && errno == EBUSY {
                Thread.detachNewThread {
                    for _ in 0..<5000 where rmdir(folder) != 0 && errno == EBUSY { usleep(1_000) }
                }
            }
        }
    }

    /// Ends step `name`'s cgroup and those of its processes (`<name>-1`, `<name>-2`, …).
    public func endAll(named name: String) {
        var names: Set<String> = [name]
        let parents: [String]
        switch self {
        case .v2(let root, _): parents = [root]
        case .v1(let memory, let pids, let cpu): parents = [memory, pids, cpu].compactMap { $0 }
        case .unavailable: parents = []
        }
        for parent in parents {
            for child in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where child.hasPrefix(name + "-") {
                names.insert(child)
            }
        }
        for name in names { end(name) }
    }

    /// Moves every process of cgroup `folder` into the leaf `leaf` (made when missing). Kernel
    /// threads that cannot move are left; false when the leaf cannot be made.
    static func moveProcesses(of folder: String, to leaf: String) -> Bool {
        guard mkdirIfNeeded(leaf) else { return false }
        for pid in pids(in: folder) { _ = write(String(pid), to: "\(leaf)/cgroup.procs") }
        return true
    }

    static func pids(in folder: String) -> [pid_t] {
        guard let text = try? String(contentsOfFile: "\(folder)/cgroup.procs", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    static func mkdirIfNeeded(_ path: String) -> Bool {
        mkdir(path, 0o755) == 0 || errno == EEXIST
    }

    static func write(_ value: String, to path: String) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) } == bytes.count
    }

    private static func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(descriptor, bytes, count)
        #else
        Darwin.write(descriptor, bytes, count)
        #endif
    }
}
