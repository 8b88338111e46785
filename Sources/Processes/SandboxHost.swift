import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What this machine offers to build sandboxes with, found once per process: bubblewrap, whether
/// the controller is root (then agents run as `nobody` through `setpriv`; otherwise as the
/// controller's user inside a user namespace), and the cgroups for limits.
///
/// Why bubblewrap and not namespaces by hand: it is Debian's, small, audited, and does the
/// delicate parts (mount order, `pivot_root`, dropping capabilities, `PR_SET_NO_NEW_PRIVS`, dying
/// with its parent) that a controller should not reimplement; devsys adds the cgroup and the uid.
public struct SandboxHost: Sendable {
    public var bubblewrap: String?
    public var bubblewrapVersion: String?
    public var setpriv: String?
    public var runsAsRoot: Bool
    public var cgroups: Cgroups
    /// Why no sandbox can be made here; nil when one can.
    public var problem: String?

    /// This machine, probed on first use (a sandbox that runs `true`).
    public static let current = SandboxHost.detect()

    public var isAvailable: Bool { problem == nil }

    /// Throws `SandboxUnavailable` naming what is missing.
    public func requireAvailable() throws {
        if let problem { throw SandboxUnavailable(problem) }
    }

    static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> SandboxHost {
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        let bubblewrap = find("bwrap", in: path)
        let setpriv = find("setpriv", in: path)
        let root = geteuid() == 0
        var host = SandboxHost(
            bubblewrap: bubblewrap,
            bubblewrapVersion: nil,
            setpriv: setpriv,
            runsAsRoot: root,
            cgroups: root ? Cgroups.detect() : .unavailable("the controller is not root; limits are rlimits only"),
            problem: nil
        )
        guard let bubblewrap else {
            host.problem = "bubblewrap (bwrap) is not installed or not on PATH"
            return host
        }
        if root && setpriv == nil {
            host.problem = "setpriv (util-linux) is not on PATH; a controller running as root needs it to run agents as nobody"
            return host
        }
        host.bubblewrapVersion = Self.output(of: [bubblewrap, "--version"])?.trimmingCharacters(in: .whitespacesAndNewlines)
        // The same namespaces and mounts a step gets, running `true`.
        let probe = SandboxLaunch(host: host, sandbox: Sandbox(name: "probe", writable: [], hidden: [], network: .none, limits: .init()), procs: [])
        let argv = probe.arguments(executable: "/bin/true", arguments: ["true"], workingDirectory: "/")
        if let failure = Self.failure(of: argv) {
            host.problem =
                "bubblewrap cannot create namespaces here (\(failure)); user namespaces may be turned off (sysctl user.max_user_namespaces)"
        }
        return host
    }

    /// One line per fact, for `devsys doctor`.
    public var report: [(String, String)] {
        [
            (
                "sandbox",
                problem.map { "unavailable: \($0)" } ?? "available (bubblewrap namespaces"
                    + (runsAsRoot ? ", agents run as nobody)" : ", agents run as this user)")
            ),
            ("bubblewrap", bubblewrapVersion.map { "\($0) at \(bubblewrap ?? "?")" } ?? (bubblewrap ?? "not found")),
            ("cgroups", cgroups.summary),
        ]
    }

    private static func find(_ program: String, in path: String) -> String? {
        for folder in path.split(separator: ":") where folder.hasPrefix("/") {
            let candidate = "\(folder)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs `argv` to its end (no shell, no timeout: these end at once); its stdout, or nil.
    private static func output(of argv: [String]) -> String? {
        let (status, output) = runQuietly(argv)
        return status == 0 ? output : nil
    }

    /// nil when `argv` exits 0, else what it printed (or its status).
    private static func failure(of argv: [String]) -> String? {
        let (status, output) = runQuietly(argv)
        guard status != 0 else { return nil }
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "exit status \(status)" : String(text.prefix(300))
    }

    /// Runs `argv` with the runner's own spawn and watch (10 s at most), stdout and stderr together.
    private static func runQuietly(_ argv: [String]) -> (Int32, String) {
        do {
            let child = try SpawnedChild.spawn(executable: argv[0], arguments: argv, environment: ["PATH": "/usr/bin:/bin"], workingDirectory: "/")
            let outcome = ChildWatch(timeout: .seconds(10), killGrace: .seconds(1), drainGrace: .milliseconds(200), outputLimit: 4096).run(child)
            let status: Int32 = if case .exited(let code) = outcome.termination, !outcome.timedOut { code } else { -1 }
            return (status, outcome.stdout.text + outcome.stderr.text)
        } catch {
            return (-1, "\(error)")
        }
    }
}

/// The command line that runs one program in a sandbox:
///
/// ```
/// sh -c '<join the cgroup; set rlimits>; exec "$@"' devsys-sandbox <cgroup.procs files> --
///   bwrap <namespaces, mounts> -- setpriv --reuid=65534 --regid=65534 --clear-groups -- <program> <arguments>
/// ```
///
/// The shell joins the step's cgroup before bubblewrap starts, so nothing the step starts is ever
/// outside it. `setpriv` is there only when the controller is root.
struct SandboxLaunch {
    let host: SandboxHost
    let sandbox: Sandbox
    /// The `cgroup.procs` files of the step's cgroup.
    let procs: [String]

    static let joinScript = #"""
        while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift
        [ -n "$DEVSYS_RLIMIT_FSIZE" ] && { ulimit -f "$DEVSYS_RLIMIT_FSIZE" || exit 125; }
        [ -n "$DEVSYS_RLIMIT_NPROC" ] && { ulimit -p "$DEVSYS_RLIMIT_NPROC" || exit 125; }
        [ -n "$DEVSYS_RLIMIT_AS" ] && { ulimit -v "$DEVSYS_RLIMIT_AS" || exit 125; }
        unset DEVSYS_RLIMIT_FSIZE DEVSYS_RLIMIT_NPROC DEVSYS_RLIMIT_AS
        exec "$@"
        """#

    /// The rlimits the shell sets, as variables it reads and unsets: the file size always; processes
    /// and address space only where no cgroup limits them.
    var rlimitVariables: [String: String] {
        var variables: [String: String] = [:]
        if let bytes = sandbox.limits.fileBytes { variables["DEVSYS_RLIMIT_FSIZE"] = String((bytes + 511) / 512) }
        if let processes = sandbox.limits.processes, !host.cgroups.limitsProcesses { variables["DEVSYS_RLIMIT_NPROC"] = String(processes) }
        if let bytes = sandbox.limits.memoryBytes, !host.cgroups.limitsMemory { variables["DEVSYS_RLIMIT_AS"] = String(bytes / 1024) }
        return variables
    }

    func arguments(executable: String, arguments: [String], workingDirectory: String) -> [String] {
        var argv = ["/bin/sh", "-c", Self.joinScript, "devsys-sandbox"] + procs + ["--"]
        argv += [host.bubblewrap ?? "bwrap"] + bubblewrapOptions(workingDirectory: workingDirectory)
        argv.append("--")
        if host.runsAsRoot {
            argv += [host.setpriv ?? "setpriv", "--reuid=\(Sandbox.agentUID)", "--regid=\(Sandbox.agentGID)", "--clear-groups", "--"]
        }
        argv.append(executable)
        argv += arguments.dropFirst()
        return argv
    }

    /// Namespaces, then the mounts in order: the system read-only, fresh `/dev`, `/proc` and
    /// `/tmp`, the hidden paths covered, then the writable folders bound over the top (their
    /// parents made inside whatever now covers them).
    func bubblewrapOptions(workingDirectory: String) -> [String] {
        var options = [
            "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "devsys-sandbox",
        ]
        if !host.runsAsRoot { options += ["--unshare-user", "--disable-userns"] }
        if sandbox.network == .none { options.append("--unshare-net") }
        options += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp"]

        // Mounts go where links lead: a hidden or writable path reached through a symlink is
        // covered or bound at its real place.
        let real = { (path: String) in URL(fileURLWithPath: path).resolvingSymlinksInPath().path }
        var covered = ["/tmp"]
        for path in Self.outermost(sandbox.hidden.map(real)) where !Self.isBelow(path, anyOf: covered) {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                options += ["--tmpfs", path]
                covered.append(path)
            } else {
                options += ["--ro-bind", "/dev/null", path]
            }
        }
        for folder in sandbox.writable.map(real) {
            var made = Set<String>()
            for parent in Self.parents(of: folder) where Self.isBelow(parent, anyOf: covered) && !made.contains(parent) {
                options += ["--perms", "0755", "--dir", parent]
                made.insert(parent)
            }
            options += ["--bind", folder, folder]
        }
        options += ["--chdir", workingDirectory]
        if host.runsAsRoot {
            // Only what setpriv needs to become nobody; bubblewrap drops every other capability.
            options += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        }
        return options
    }

    /// `/a/b/c` → `/a`, `/a/b` (not the folder itself, not `/`).
    static func parents(of path: String) -> [String] {
        let parts = path.split(separator: "/")
        guard parts.count > 1 else { return [] }
        return (1..<parts.count).map { "/" + parts[0..<$0].joined(separator: "/") }
    }

    static func isBelow(_ path: String, anyOf folders: [String]) -> Bool {
        folders.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }

    /// The paths not inside another one of them, shortest first.
    static func outermost(_ paths: [String]) -> [String] {
        let cleaned = Set(paths.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }.filter { $0.hasPrefix("/") && $0 != "/" })
        let sorted = cleaned.sorted { $0.count < $1.count }
        var kept: [String] = []
        for path in sorted where !isBelow(path, anyOf: kept) { kept.append(path) }
        return kept
    }
}
