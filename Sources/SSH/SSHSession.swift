import CSSH2
import Foundation

/// An authenticated SSH connection to one host, on which commands are run with `exec`.
///
/// Connecting checks the server's host key strictly against the host's known_hosts file and signs
/// in with the identity file only (never a password or keyboard-interactive). The connection is
/// closed when the session goes away.
///
/// One command runs at a time: calls from several threads are serialised by a lock, so a session
/// may be shared, but two commands never overlap on it. Open one session per host for parallelism.
public final class SSHSession: @unchecked Sendable {
    /// The host this session is connected to.
    public let host: SSHHost
    /// The server's host key fingerprint, as `ssh-keygen -l` prints it (`SHA256:…`).
    public let hostKeyFingerprint: String
    let connection: SSHConnection
    /// Serialises every use of `connection`; libssh2 sessions are not thread-safe.
    // Not a Mutex: it is held across blocking libssh2 calls while the caller's input writer uses the channel, which `sending` state forbids.
    let lock = NSLock()
    /// Set when a command was abandoned mid-way and the connection can no longer be trusted.
    /// Read and written under `lock`.
    var broken: SSHError?

    /// Connects to `host`, verifies its host key and authenticates with its identity file, all
    /// within `host.connectTimeout`.
    ///
    /// Throws `SSHError` with kind `.connect` (refused, unreachable), `.timeout`, `.handshake`,
    /// `.hostKeyUnknown`, `.hostKeyChanged`, `.rsaKeyUnsupported` (before contacting the server)
    /// or `.authentication`.
    public init(host: SSHHost) throws {
        if let type = IdentityFile.keyType(privateKeyPath: host.identityFile), type == "ssh-rsa" {
            throw SSHError(
                message: "\(host.identityFile) is an RSA key; " + SSHError.rsaAdvice,
                function: "publickey authentication",
                host: host.endpoint,
                kind: .rsaKeyUnsupported
            )
        }
        let deadline = ContinuousClock.now + host.connectTimeout
        let connection = try SSHConnection(host: host, deadline: deadline)
        try KnownHosts.verify(connection)
        self.host = host
        self.connection = connection
        self.hostKeyFingerprint = try connection.hostKeyFingerprint()
        try authenticate(deadline: deadline)
    }

    private func authenticate(deadline: ContinuousClock.Instant) throws {
        let publicKey = host.identityFile + ".pub"
        let hasPublicKey = FileManager.default.fileExists(atPath: publicKey)
        let session = connection.session
        do {
            try connection.retry("libssh2_userauth_publickey_fromfile_ex", deadline: deadline, kind: .authentication) {
                libssh2_userauth_publickey_fromfile_ex(
                    session,
                    host.user,
                    UInt32(host.user.utf8.count),
                    hasPublicKey ? publicKey : nil,
                    host.identityFile,
                    nil
                )
            }
        } catch var error as SSHError where error.kind == .authentication {
            switch error.code {
            case LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
                error.message +=
                    "; \(host.endpoint) refused the key \(host.identityFile) for user '\(host.user)': "
                    + "add \(hasPublicKey ? publicKey : "its public key") to ~\(host.user)/.ssh/authorized_keys on the host"
            case LIBSSH2_ERROR_FILE:
                error.message += "; cannot use the key file \(host.identityFile): devsys needs an ed25519 or ECDSA key without a passphrase"
            default:
                break
            }
            throw error
        }
    }

    // MARK: Host keys

    /// Connects and completes the handshake only — no host key check, no authentication — and
    /// returns the server's host key, for `devsys hosts trust` to show and record.
    /// Throws `.connect`, `.timeout` or `.handshake`.
    public static func scanHostKey(host: SSHHost) throws -> (type: String, key: Data, fingerprint: String) {
        let connection = try SSHConnection(host: host, deadline: .now + host.connectTimeout)
        let (type, key, _) = try connection.hostKey()
        return (type, key, try connection.hostKeyFingerprint())
    }

    /// Records `key` of `type` as the host key of `host` in `knownHostsFile` (named
    /// `[address]:port`, or just the address on port 22). The line is appended atomically and the
    /// file created if missing. Throws the file system's error when it cannot be written.
    public static func trust(host: SSHHost, key: Data, type: String, knownHostsFile: String) throws {
        try KnownHosts.append(name: host.knownHostsName, type: type, key: key, to: knownHostsFile)
    }

    // MARK: Running commands

    /// Runs `command` with `stdin` as its input (none: input is closed at once) and returns its exit
    /// status and all it wrote to stdout and stderr.
    ///
    /// Throws `.timeout` when it does not finish within `timeout` (it may then keep running on the
    /// host), and `.channel` when the command cannot be started or the connection breaks.
    public func exec(_ command: String, stdin: Data? = nil, timeout: Duration? = nil) throws -> ExecResult {
        try exec(command, timeout: timeout) { input in
            if let stdin { try input.write(stdin) }
        }
    }

    /// Runs `command`, streaming its input: `writeInput` writes chunks with `ExecInput.write`
    /// (for instance a tar stream), then the input is closed. Output is read while writing, so a
    /// command that answers as it reads cannot deadlock. Throws like `exec(_:stdin:timeout:)`,
    /// or what `writeInput` throws (the command is then abandoned).
    public func exec(_ command: String, timeout: Duration? = nil, writeInput: (ExecInput) throws -> Void) throws -> ExecResult {
        lock.lock()
        defer { lock.unlock() }
        if let broken { throw broken }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let channel = try ExecChannel(connection: connection, command: command, deadline: deadline, timeout: timeout)
        do {
            try writeInput(ExecInput(channel: channel))
            return try channel.finish()
        } catch {
            if !channel.abandon() {
                broken = SSHError(
                    message: "the connection was left unusable by an earlier failure (\(error)); open a new session",
                    function: "exec",
                    host: host.endpoint,
                    kind: .channel
                )
            }
            throw error
        }
    }

    /// Sends a keepalive to the server, so idle firewalls and the server's `ClientAliveInterval`
    /// keep the connection open. Throws `.timeout` or `.other` when the connection is gone.
    public func keepalive() throws {
        lock.lock()
        defer { lock.unlock() }
        let session = connection.session
        var next: Int32 = 0
        try connection.retry("libssh2_keepalive_send", deadline: .now + host.idleTimeout, kind: .other) {
            libssh2_keepalive_send(session, &next)
        }
    }
}
