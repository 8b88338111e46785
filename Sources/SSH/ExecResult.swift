import Foundation

/// What a command run over SSH produced.
public struct ExecResult: Sendable, Hashable {
    /// The exit status; -1 when the command was killed by a signal (see `exitSignal`).
    public var status: Int32
    /// The signal that ended the command, like `TERM`, or nil.
    public var exitSignal: String?
    /// Everything the command wrote to stdout.
    public var stdout: Data
    /// Everything the command wrote to stderr.
    public var stderr: Data

    public init(status: Int32, exitSignal: String? = nil, stdout: Data, stderr: Data) {
        self.status = status
        self.exitSignal = exitSignal
        self.stdout = stdout
        self.stderr = stderr
    }

    /// True when the command exited with status 0.
    public var succeeded: Bool { status == 0 && exitSignal == nil }
    /// stdout as UTF-8 text.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stderr as UTF-8 text.
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// The input side of a running command, handed to the `writeInput` closure of `SSHSession.exec`.
/// Valid only during that call.
public struct ExecInput {
    let channel: ExecChannel

    /// Sends `data` to the command's stdin, waiting while the server's window is full (and reading
    /// the command's output meanwhile). Throws `.timeout` or `.channel`.
    public func write(_ data: Data) throws {
        try channel.write(data)
    }
}
