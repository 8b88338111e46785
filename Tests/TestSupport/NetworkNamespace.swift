import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A network namespace of its own for one test host (DESIGN §7: no Docker here; several hosts are
/// sshd per namespace), joined to the root namespace by a veth pair: `10.213.<index>.1/24` on the
/// root side, `10.213.<index>.2/24` inside, `lo` up. Needs root. `stop()` it in a `defer`: it kills
/// every process left in the namespace and deletes it (which deletes the veth pair).
///
/// The index is claimed by creating the namespace `devsys213-<index>` (`ip netns add` fails when
/// it exists), so tests and test runs in parallel never share a name or a subnet.
public final class NetworkNamespace: @unchecked Sendable {
    public static let ip = "/usr/sbin/ip"
    public let index: Int
    public let name: String
    /// The veth end in the root namespace; `cutOff()` takes it down.
    public let rootSideLink: String
    public let namespaceSideLink: String
    /// The namespace's address, reachable from the root namespace.
    public let address: String
    /// The root namespace's address on the veth pair.
    public let rootSideAddress: String

    /// Claims a free index and sets up the namespace and its veth pair.
    public init() throws {
        var claimed: Int?
        for candidate in (1...250).shuffled() {
            if (try? SSHDServer.run(Self.ip, ["netns", "add", "devsys213-\(candidate)"])) != nil {
                claimed = candidate
                break
            }
        }
        guard let index = claimed else { throw TestFailure("no free network namespace devsys213-1…250") }
        self.index = index
        name = "devsys213-\(index)"
        rootSideLink = "dsys213-\(index)r"
        namespaceSideLink = "dsys213-\(index)n"
        address = "10.213.\(index).2"
        rootSideAddress = "10.213.\(index).1"
        do {
            // A leftover link of the same name from a killed run would make `add` fail.
            _ = try? SSHDServer.run(Self.ip, ["link", "del", rootSideLink])
            try SSHDServer.run(Self.ip, ["link", "add", rootSideLink, "type", "veth", "peer", "name", namespaceSideLink, "netns", name])
            try SSHDServer.run(Self.ip, ["addr", "add", "\(rootSideAddress)/24", "dev", rootSideLink])
            try SSHDServer.run(Self.ip, ["link", "set", rootSideLink, "up"])
            try SSHDServer.run(Self.ip, ["-n", name, "addr", "add", "\(address)/24", "dev", namespaceSideLink])
            try SSHDServer.run(Self.ip, ["-n", name, "link", "set", namespaceSideLink, "up"])
            try SSHDServer.run(Self.ip, ["-n", name, "link", "set", "lo", "up"])
        } catch {
            stop()
            throw error
        }
    }

    /// `program arguments` inside the namespace (`ip netns exec`, which execs it: same pid).
    public func command(_ program: String, _ arguments: [String]) -> [String] {
        [Self.ip, "netns", "exec", name, program] + arguments
    }

    /// Takes the root side of the veth pair down: the namespace is cut off, mid-connection.
    public func cutOff() throws {
        try SSHDServer.run(Self.ip, ["link", "set", rootSideLink, "down"])
    }

    /// Brings the root side of the veth pair back up.
    public func reconnect() throws {
        try SSHDServer.run(Self.ip, ["link", "set", rootSideLink, "up"])
    }

    /// The processes running in the namespace.
    public func processes() -> [pid_t] {
        ((try? SSHDServer.run(Self.ip, ["netns", "pids", name])) ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Kills every process still in the namespace, then deletes it and its veth pair.
    public func stop() {
        for _ in 0..<3 {
            let pids = processes()
            if pids.isEmpty { break }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(100_000)
        }
        _ = try? SSHDServer.run(Self.ip, ["netns", "del", name])
    }
}

/// A long-running program started with posix_spawn in a process group of its own, output to a
/// log file. Not Foundation's `Process`: with several `Process` children, corelibs Foundation
/// sometimes never reports one's exit and `waitUntilExit` hangs.
public final class TestDaemon: @unchecked Sendable {
    public let pid: pid_t
    public let logFile: String
    private var reaped = false

    /// Starts `argv` (program path first) with `environment` ("KEY=value").
    public init(_ argv: [String], environment: [String], logFile: String) throws {
        self.logFile = logFile
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        TestDaemon.closeInheritedDescriptors(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnvironment: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for pointer in cArguments + cEnvironment { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard spawned == 0 else { throw TestFailure("cannot start \(argv.joined(separator: " ")): \(String(cString: strerror(spawned)))") }
        self.pid = pid
    }

    deinit { stop() }

    /// Adds a close action for every descriptor above 2 open in this process: a child that kept
    /// another test's pipe open would keep that test waiting for the pipe's end for ever.
    public static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }

    /// Whether it is still running.
    public var isRunning: Bool {
        guard !reaped else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            reaped = true
            return false
        }
        return true
    }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Kills its process group (SIGKILL) and reaps it.
    public func stop() {
        guard !reaped else { return }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
    }
}

/// A deploy host for one test: a real sshd (key login only, its own host key, a known_hosts file
/// listing it) and `php -S` with `deploy/php-router.php` serving `<root>/<app>/current`, either on
/// free ports of 127.0.0.1 or on ports 22 and 8080 of a `NetworkNamespace` of its own. Everything
/// runs as root (the test user) on this machine's file system. `stop()` it in a `defer`.
public final class TestWebHost: @unchecked Sendable {
    public let folder: URL
    /// The deploy root (devsys.yaml `hosts.<name>.root`).
    public let root: String
    public let app: String
    public let namespace: NetworkNamespace?
    public let address: String
    public let sshPort: Int
    public let httpPort: Int
    public let user: String
    /// An ed25519 key in authorized_keys.
    public let userKey: String
    /// The ed25519 host key (private key path; `.pub` next to it).
    public let hostKey: String
    /// A known_hosts file listing the host key.
    public let knownHosts: String
    private var sshd: TestDaemon?
    private var php: TestDaemon?

    /// `http://<address>:<port>`.
    public var url: String { "http://\(address):\(httpPort)" }
    /// `<root>/<app>`.
    public var appFolder: String { root + "/" + app }

    /// Starts sshd and php -S for `app`; in `namespace` when given (which the host then stops too).
    public init(app: String, namespace: NetworkNamespace? = nil) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-host-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.folder = folder
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        self.app = app
        self.namespace = namespace
        root = path("root")
        try FileManager.default.createDirectory(atPath: root + "/" + app, withIntermediateDirectories: true)
        let address = namespace?.address ?? "127.0.0.1"
        self.address = address
        userKey = path("id_ed25519")
        hostKey = path("host_ed25519")
        knownHosts = path("known_hosts")
        user = String(cString: getpwuid(geteuid())!.pointee.pw_name)
        try SSHDServer.keygen(hostKey, type: "ed25519")
        try SSHDServer.keygen(userKey, type: "ed25519")
        try FileManager.default.copyItem(atPath: userKey + ".pub", toPath: path("authorized_keys"))
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let sshPort = namespace == nil ? try SSHDServer.freePort() : 22
        self.sshPort = sshPort
        httpPort = namespace == nil ? try SSHDServer.freePort() : 8080
        try """
        Port \(sshPort)
        ListenAddress \(address)
        HostKey \(hostKey)
        AuthorizedKeysFile \(path("authorized_keys"))
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        PidFile \(path("sshd.pid"))
        AllowUsers \(user)
        LogLevel VERBOSE

        """.write(toFile: path("sshd_config"), atomically: true, encoding: .utf8)
        do {
            try startSSH()
            let hostPublic = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).split(separator: " ")
            let name = sshPort == 22 ? address : "[\(address)]:\(sshPort)"
            try "\(name) \(hostPublic[0]) \(hostPublic[1])\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
            try startPHP()
        } catch {
            stop()
            throw error
        }
    }

    /// Starts sshd (again, after `crashSSH()`).
    public func startSSH() throws {
        let argv = ["/usr/sbin/sshd", "-D", "-e", "-f", folder.appendingPathComponent("sshd_config").path]
        let sshd = try TestDaemon(
            namespace?.command(argv[0], Array(argv.dropFirst())) ?? argv,
            environment: ["PATH=/usr/bin:/bin"],
            logFile: folder.appendingPathComponent("sshd.log").path
        )
        self.sshd = sshd
        try Self.wait(for: "sshd", sshd, until: { Self.canConnect(address: self.address, port: self.sshPort) })
    }

    /// Kills sshd and, on a host in a namespace, every SSH session and command running there
    /// (SIGKILL), as a crash of the host's SSH side would: open connections are reset mid-command.
    public func crashSSH() {
        sshd?.stop()
        sshd = nil
        guard let namespace else { return }
        for _ in 0..<3 {
            let doomed = namespace.processes().filter { $0 != php?.pid }
            if doomed.isEmpty { break }
            for pid in doomed { kill(pid, SIGKILL) }
            usleep(50_000)
        }
    }

    /// Starts php -S again after `stopPHP()`.
    public func startPHP() throws {
        let argv = ["/usr/bin/php", "-S", "\(address):\(httpPort)", PHPServer.routerPath]
        let php = try TestDaemon(
            namespace?.command(argv[0], Array(argv.dropFirst())) ?? argv,
            environment: ["DEVSYS_APP_ROOT=\(appFolder)", "PATH=/usr/bin:/bin"],
            logFile: folder.appendingPathComponent("php.log").path
        )
        self.php = php
        try Self.wait(for: "php -S", php, until: { Self.answersHTTP(address: self.address, port: self.httpPort) })
    }

    /// Stops php -S: the host keeps its files and sshd but no longer answers HTTP.
    public func stopPHP() {
        php?.stop()
        php = nil
    }

    /// The host's entry for devsys.yaml's `hosts:` mapping, as one line.
    public func yaml(name: String, knownHosts: String? = nil) -> String {
        "\(name): { transport: ssh, address: \(address), port: \(sshPort), user: \(user), root: \(root), "
            + "identity: \(userKey), known_hosts: \(knownHosts ?? self.knownHosts), url: \"\(url)\" }"
    }

    /// The revision folder `current` points at (`revisions/<NNNN>-<sha12>`), or nil.
    public var current: String? { try? FileManager.default.destinationOfSymbolicLink(atPath: appFolder + "/current") }

    /// Stops php and sshd, the namespace when there is one, and removes the folder.
    public func stop() {
        stopPHP()
        sshd?.stop()
        namespace?.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    public var sshdLog: String { sshd?.log ?? "" }

    private static func wait(for what: String, _ daemon: TestDaemon, until ready: () -> Bool) throws {
        let giveUp = Date().addingTimeInterval(10)
        while !ready() {
            guard daemon.isRunning else { throw TestFailure("\(what) exited: \(daemon.log)") }
            guard Date() < giveUp else { throw TestFailure("\(what) did not answer within 10 s: \(daemon.log)") }
            usleep(20_000)
        }
    }

    /// A TCP connection to `address:port`, with a one-second limit; nil when none.
    private static func openConnection(address: String, port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = UInt16(port).bigEndian
        target.sin_addr.s_addr = inet_addr(address)
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    static func canConnect(address: String, port: Int) -> Bool {
        guard let fd = openConnection(address: address, port: port) else { return false }
        close(fd)
        return true
    }

    /// Whether `GET /` on `address:port` gets an HTTP status line.
    static func answersHTTP(address: String, port: Int) -> Bool {
        guard let fd = openConnection(address: address, port: port) else { return false }
        defer { close(fd) }
        let request = Array("GET / HTTP/1.0\r\nHost: \(address)\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count >= 5 && buffer[0..<5] == Array("HTTP/".utf8)[0..<5]
    }
}
