import Foundation
import SSH
import Synchronization

/// The `ssh` host transport: one SSH connection per host and, on it, one long-lived remote shell
/// that runs every command (`SSHShell`), so a command costs a round trip, not a channel and a login
/// shell (80–90 ms with OpenSSH).
///
/// Nothing connects until the first `run` (or `connect`); runs are serialised. After a timeout, a
/// broken stream or a failed input writer the shell is dropped and the next `run` opens a fresh
/// one, reconnecting when the connection is gone.
///
/// Connection failures are the `SSHError`s of `SSHSession` (kinds `.connect`, `.timeout`,
/// `.handshake`, `.hostKeyUnknown`, `.hostKeyChanged`, `.authentication`, `.rsaKeyUnsupported`),
/// with the devsys host name put in front of the address: `web1 (10.0.0.5:22): …`.
public final class SSHTransport: HostTransport, Sendable {
    public let name: String
    public let host: SSHHost
    /// Held for a whole run, so runs are serialised.
    private let connection = Mutex(Connection())

    /// The open session and the shell on it; nil until the first run, and after a failure.
    private struct Connection {
        var session: SSHSession?
        var shell: SSHShell?
    }

    /// A transport to `host`, named `name` (the host's name in devsys.yaml) in messages. Does not connect.
    public init(name: String, host: SSHHost) {
        self.name = name
        self.host = host
    }

    deinit {
        connection.withLock { $0.shell?.close() }
    }

    /// Connects and opens the remote shell now, when not already open (for `devsys hosts check`).
    /// Throws the connection's `SSHError`, naming this host.
    public func connect() throws {
        try connection.withLock { _ = try openShell(&$0) }
    }

    /// Closes the shell and the connection; the next `run` connects again.
    public func close() {
        connection.withLock { connection in
            connection.shell?.close()
            connection = Connection()
        }
    }

    /// Runs `command` in the host's shell. Throws `HostTransportError.timedOut` when it outlives
    /// `timeout`, the connection's `SSHError` (naming this host) when it cannot connect or the
    /// stream breaks, and what `writeInput` throws; a cut input is never acted on (the remote
    /// command is killed).
    public func run(_ command: String, timeout: Duration?, writeInput: (((Data) throws -> Void) throws -> Void)?) throws -> RemoteResult {
        try connection.withLock { connection in
            let shell = try openShell(&connection)
            do {
                let result = try shell.run(command, timeout: timeout, writeInput: writeInput)
                return RemoteResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
            } catch let error as SSHError {
                Self.drop(&connection, after: error)
                if error.kind == .timeout, let timeout { throw HostTransportError.timedOut(host: name, command: command, after: timeout) }
                throw named(error)
            } catch {
                Self.drop(&connection, after: nil)
                throw error
            }
        }
    }

    // MARK: Connection

    /// The open shell, or a new one (on the open session when it is still usable, else on a new
    /// connection). Called with the lock held.
    private func openShell(_ connection: inout Connection) throws -> SSHShell {
        if let shell = connection.shell, shell.isOpen { return shell }
        connection.shell = nil
        if let session = connection.session, !session.isBroken, let shell = try? session.openShell() {
            connection.shell = shell
            return shell
        }
        connection.session = nil
        do {
            let session = try SSHSession(host: host)
            let shell = try session.openShell()
            connection = Connection(session: session, shell: shell)
            return shell
        } catch let error as SSHError {
            throw named(error)
        }
    }

    /// Forgets the shell after a failed run, and the connection too when it broke.
    private static func drop(_ connection: inout Connection, after error: SSHError?) {
        connection.shell = nil
        if let error, error.kind != .timeout { connection.session = nil }
        if connection.session?.isBroken == true { connection.session = nil }
    }

    /// `error` with this host's devsys name in front of the address.
    private func named(_ error: SSHError) -> SSHError {
        guard !error.host.hasPrefix(name + " (") else { return error }
        var error = error
        error.host = "\(name) (\(error.host))"
        return error
    }
}
