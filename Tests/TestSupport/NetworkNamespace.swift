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
    private var sshd: ChildProcess?
    private var php: ChildProcess?

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
        try SSHDServer.configuration(address: address, port: sshPort, hostKeys: [hostKey], folder: folder, user: user)
            .write(toFile: path("sshd_config"), atomically: true, encoding: .utf8)
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
        let sshd = try daemon(
            "/usr/sbin/sshd",
            ["-D", "-e", "-f", folder.appendingPathComponent("sshd_config").path],
            environment: ["PATH": "/usr/bin:/bin"],
            log: "sshd.log"
        )
        self.sshd = sshd
        try Self.wait(for: "sshd", sshd, log: sshdLog, until: { TCPProbe.canConnect(address: self.address, port: self.sshPort) })
    }

    /// Kills sshd and, on a host in a namespace, every SSH session and command running there
    /// (SIGKILL), as a crash of the host's SSH side would: open connections are reset mid-command.
    public func crashSSH() {
        sshd?.stop(signal: SIGKILL)
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
        let php = try daemon(
            "/usr/bin/php",
            ["-S", "\(address):\(httpPort)", PHPServer.routerPath],
            environment: ["DEVSYS_APP_ROOT": appFolder, "PATH": "/usr/bin:/bin"],
            log: "php.log"
        )
        self.php = php
        try Self.wait(for: "php -S", php, log: log("php.log"), until: { TCPProbe.answersHTTP(address: self.address, port: self.httpPort) })
    }

    /// Starts `program` (in the namespace when there is one) in a process group of its own, its
    /// output appended to `log` in the folder, with `environment` alone.
    private func daemon(_ program: String, _ arguments: [String], environment: [String: String], log: String) throws -> ChildProcess {
        let argv = namespace?.command(program, arguments) ?? [program] + arguments
        return try ChildProcess(
            argv[0],
            Array(argv.dropFirst()),
            environment: environment,
            output: .log(folder.appendingPathComponent(log).path),
            ownProcessGroup: true,
            closeInheritedDescriptors: true
        )
    }

    /// The text of `name` in the folder (a daemon's log), or "".
    private func log(_ name: String) -> String {
        (try? String(contentsOfFile: folder.appendingPathComponent(name).path, encoding: .utf8)) ?? ""
    }

    /// Stops php -S: the host keeps its files and sshd but no longer answers HTTP.
    public func stopPHP() {
        php?.stop(signal: SIGKILL)
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
        sshd?.stop(signal: SIGKILL)
        namespace?.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// sshd's log, for diagnosing a failing test.
    public var sshdLog: String { log("sshd.log") }

    private static func wait(for what: String, _ daemon: ChildProcess, log: @autoclosure () -> String, until ready: () -> Bool) throws {
        // Generous: on a busy machine a starting daemon may wait long for a core; this bound is for a hang.
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(60)
        while !ready() {
            guard !daemon.hasExited else { throw TestFailure("\(what) exited: \(log())") }
            guard clock.now < giveUp else { throw TestFailure("\(what) did not answer within 60 s: \(log())") }
            usleep(20_000)
        }
    }
}
