import Foundation
import SSH

#if canImport(Glibc)
import Glibc
#endif

/// A real OpenSSH server for one test: its own host key, an ed25519 user key in its
/// authorized_keys (plus an ECDSA one, an RSA one and a stranger key that is not), listening on a
/// free port of 127.0.0.1, with a known_hosts file that lists its host key. `stop()` it in a `defer`.
public final class SSHDServer: @unchecked Sendable {
    public let folder: URL
    public let port: Int
    /// The ed25519 host key (private key path; `.pub` next to it).
    public let hostKey: String
    /// An ed25519 key in authorized_keys.
    public let userKey: String
    /// An ECDSA (nistp256) key in authorized_keys.
    public let ecdsaKey: String
    /// An RSA key in authorized_keys, which libssh2 1.10 cannot use.
    public let rsaKey: String
    /// An ed25519 key that is not in authorized_keys.
    public let strangerKey: String
    /// A known_hosts file listing this server's host key.
    public let knownHosts: String
    /// sshd's log (`-e`), for diagnosing a failing test.
    public let logFile: String
    public let user: String
    private let process: ChildProcess

    /// Starts sshd with a host key of each of `hostKeyTypes` (`ed25519`, `ecdsa`); `hostKey` and
    /// `knownHosts` are for the first. Its keys, configuration and log go to `folder` (default: a new
    /// one in the temporary folder), which `stop()` removes. `settings` are sshd_config lines put
    /// before the usual ones, so they win over them (sshd takes a keyword's first value), e.g.
    /// `MaxStartups 100`.
    public init(hostKeyTypes: [String] = ["ed25519"], folder: URL? = nil, settings: [String] = []) throws {
        let folder = folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("devsys-sshd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.folder = folder
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        hostKey = path("host_\(hostKeyTypes[0])")
        userKey = path("id_ed25519")
        ecdsaKey = path("id_ecdsa")
        rsaKey = path("id_rsa")
        strangerKey = path("stranger_ed25519")
        knownHosts = path("known_hosts")
        logFile = path("sshd.log")
        for type in hostKeyTypes { try Self.keygen(path("host_\(type)"), type: type) }
        try Self.keygen(userKey, type: "ed25519")
        try Self.keygen(ecdsaKey, type: "ecdsa", bits: 256)
        try Self.keygen(rsaKey, type: "rsa", bits: 2048)
        try Self.keygen(strangerKey, type: "ed25519")
        let authorized = try [userKey, ecdsaKey, rsaKey].map { try String(contentsOfFile: $0 + ".pub", encoding: .utf8) }.joined()
        try authorized.write(toFile: path("authorized_keys"), atomically: true, encoding: .utf8)
        let user = String(cString: getpwuid(geteuid())!.pointee.pw_name)
        self.user = user
        // sshd's privilege separation wants this folder, which only exists while the system's sshd runs.
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        // A free port can be taken by someone else before sshd binds it: then try another.
        var attempt = 0
        while true {
            attempt += 1
            let port = try Self.freePort()
            let config = Self.configuration(
                address: "127.0.0.1",
                port: port,
                hostKeys: hostKeyTypes.map { path("host_\($0)") },
                folder: folder,
                user: user,
                settings: settings
            )
            try config.write(toFile: path("sshd_config"), atomically: true, encoding: .utf8)
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
            let process = try ChildProcess("/usr/sbin/sshd", ["-D", "-e", "-f", path("sshd_config")], output: .log(logFile))
            do {
                try Self.waitUntilListening(process, port: port, logFile: logFile)
            } catch let failure as TestFailure where attempt < 5 && failure.description.contains("Address already in use") {
                continue
            }
            self.port = port
            self.process = process
            break
        }
        let hostPublic = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).split(separator: " ")
        try "[127.0.0.1]:\(port) \(hostPublic[0]) \(hostPublic[1])\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
    }

    /// A host description for this server, signing in with `identity` (default: the ed25519 user key).
    /// The connect timeout is generous: on a busy machine a handshake may wait long for a core.
    public func host(identity: String? = nil, knownHosts: String? = nil, connectTimeout: Duration = .seconds(30)) -> SSHHost {
        SSHHost(
            address: "127.0.0.1",
            port: port,
            user: user,
            identityFile: identity ?? userKey,
            knownHostsFile: knownHosts ?? self.knownHosts,
            connectTimeout: connectTimeout,
            idleTimeout: .seconds(10)
        )
    }

    /// Stops sshd (SIGTERM) and removes the folder.
    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    private static func waitUntilListening(_ process: ChildProcess, port: Int, logFile: String) throws {
        func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
        // Generous: on a busy machine a starting sshd may wait long for a core; this bound is for a hang.
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(60)
        while clock.now < giveUp {
            if process.hasExited {
                throw TestFailure("sshd exited with status \(process.wait().status): \(log())")
            }
            if TCPProbe.canConnect(address: "127.0.0.1", port: port) { return }
            usleep(20_000)
        }
        process.stop()
        throw TestFailure("sshd did not listen on port \(port) within 60 s: \(log())")
    }

    // MARK: Helpers

    /// An sshd_config for key login only, as `user`, on `address:port`, with `authorized_keys` and
    /// the pid file in `folder`, SFTP for scp, and a verbose log. `settings` come first, so they win
    /// over these (sshd takes a keyword's first value).
    public static func configuration(address: String, port: Int, hostKeys: [String], folder: URL, user: String, settings: [String] = []) -> String {
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        return settings.map { $0 + "\n" }.joined() + """
            Port \(port)
            ListenAddress \(address)
            \(hostKeys.map { "HostKey \($0)" }.joined(separator: "\n"))
            AuthorizedKeysFile \(path("authorized_keys"))
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PidFile \(path("sshd.pid"))
            Subsystem sftp internal-sftp
            AllowUsers \(user)
            LogLevel VERBOSE

            """
    }

    public static func keygen(_ path: String, type: String, bits: Int? = nil) throws {
        var arguments = ["-q", "-N", "", "-t", type, "-f", path, "-C", "devsys-test"]
        if let bits { arguments += ["-b", String(bits)] }
        try run("/usr/bin/ssh-keygen", arguments)
    }

    /// Runs a program and returns its stdout; throws with its stderr when it fails.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], input: Data? = nil) throws -> String {
        try ChildProcess.check(program, arguments, input: input)
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now: bind port 0, read it, close.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestFailure("bind: \(errno)") }
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never says anything: an SSH server
/// that hangs before its banner.
public final class SilentListener: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    /// Listens on a free port of 127.0.0.1.
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = SSHDServer.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw TestFailure("cannot listen: \(errno)") }
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        // The kernel completes TCP handshakes into the backlog; never calling accept is enough.
    }

    public func stop() {
        close(fd)
    }
}
