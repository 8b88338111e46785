import Foundation

/// A way to run shell commands on a deploy host: an SSH session, or this machine for `local`
/// hosts. Everything `HostDeployer` does on a host goes through `run`, so a transport is all a new
/// kind of host needs.
public protocol HostTransport: Sendable {
    /// The host's name from devsys.yaml, for messages ("web1").
    var name: String { get }

    /// Runs `command`, a POSIX `sh` command line, on the host and waits for it to end.
    ///
    /// `writeInput`, when given, is called once with a writer that sends bytes to the command's
    /// stdin, in order; stdin is closed when it returns. When it throws, the command is stopped
    /// (it must not act on a cut input) and the error is rethrown. Without it stdin is empty.
    /// A non-zero exit is a result, not an error. Throws `HostTransportError` when the command
    /// cannot be started or outlives `timeout` (nil: no limit), and the transport's own connection
    /// errors (`SSHError` for ssh hosts, with the host's name in front of its address).
    func run(_ command: String, timeout: Duration?, writeInput: (((Data) throws -> Void) throws -> Void)?) throws -> RemoteResult
}

extension HostTransport {
    /// Runs `command` with an empty stdin.
    public func run(_ command: String, timeout: Duration?) throws -> RemoteResult {
        try run(command, timeout: timeout, writeInput: nil)
    }
}

/// Why a transport could not run a command to its end.
public enum HostTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The command could not be started at all.
    case startFailed(host: String, reason: String)
    /// The command was still running at its timeout and was stopped.
    case timedOut(host: String, command: String, after: Duration)
    /// The command stopped reading its stdin before all of it was sent.
    case inputRejected(host: String, reason: String)
    /// devsys.yaml does not say enough to reach the host.
    case incompleteHost(host: String, reason: String)

    public var description: String {
        switch self {
        case .startFailed(let host, let reason):
            "\(host): cannot start a shell command: \(reason)"
        case .timedOut(let host, let command, let after):
            "\(host): command timed out after \(after) and was stopped: \(command.prefix(200))"
        case .inputRejected(let host, let reason):
            "\(host): the command stopped reading its input: \(reason)"
        case .incompleteHost(let host, let reason):
            "invalid host '\(host)': \(reason)"
        }
    }
}
