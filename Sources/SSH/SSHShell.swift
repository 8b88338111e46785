import CSSH2
import Foundation

/// One long-lived `sh` on the host that runs command after command over a single exec channel.
///
/// Opening a channel costs a login shell on the server (80–90 ms with OpenSSH); a shell pays it
/// once. Each command travels framed on the channel's stdin: a header line `<length> <token> <mode>`,
/// the command text, and for commands with input the input as chunks `<n>\n` + n bytes ending with
/// `0\n`. The remote loop (`script`) reads the frames with `read` and `head -c` (both read exactly
/// what they are told on a pipe), runs the command with `sh -c`, and ends its stdout and stderr with
/// a line holding the random token (and the exit status on stdout), which `run` strips.
///
/// A command that stops reading its input early does not desynchronise the frames: SIGPIPE is
/// ignored on the input side and what is left of each chunk is drained. A cut input — the channel
/// closed before the `0` chunk, because the input writer failed or the connection broke — kills the
/// remote shell's process group (the command with it), so a cut input is never acted on.
///
/// After a timeout or a broken stream the shell is closed and `isOpen` is false; open a new one.
/// Uses of the session's connection are serialised with the session's lock.
public final class SSHShell: @unchecked Sendable {
    /// The session the shell runs on.
    public let session: SSHSession
    /// Nil once closed.
    private var channel: ExecChannel?
    /// Input frames are sent in chunks of this size: each costs the remote side a few forks.
    static let frameSize = 1024 * 1024
    /// The size of each write to the channel.
    static let writeSize = 256 * 1024

    /// The remote loop. Single-quoted as a whole for the login shell, so it holds no `'`.
    static let script = """
        printf "\\036DEVSYS ready\\n"; printf "\\036DEVSYS ready\\n" >&2
        while IFS=" " read -r len token mode; do
          cmd=$(head -c "$len")
          if [ "$mode" = i ]; then
            { trap "" PIPE
              while IFS= read -r n; do
                [ "$n" -gt 0 ] || exit 0
                head -c "$n" | { cat 2>/dev/null || cat >/dev/null; }
              done
              kill -9 0
            } | sh -c "$cmd"
          else
            sh -c "$cmd" </dev/null
          fi
          s=$?
          printf "\\036DEVSYS %s %d\\n" "$token" "$s"
          printf "\\036DEVSYS %s\\n" "$token" >&2
        done
        """

    /// Starts the remote loop on a new channel of `session` and waits until it is ready.
    /// Throws `.channel` or `.timeout` (after the host's `idleTimeout`).
    init(session: SSHSession) throws {
        // Nothing is stored before this can throw, so `deinit` (which takes the lock) does not run.
        let channel = try ExecChannel(
            connection: session.connection,
            command: "sh -c '" + Self.script + "'",
            deadline: .now + session.host.idleTimeout,
            timeout: session.host.idleTimeout
        )
        channel.program = "sh"
        do {
            _ = try Self.readUntil(channel, stdoutMarker: Data("\u{1e}DEVSYS ready".utf8), stderrMarker: Data("\u{1e}DEVSYS ready\n".utf8))
        } catch {
            _ = channel.abandon()
            throw error
        }
        self.session = session
        self.channel = channel
    }

    deinit {
        close()
    }

    /// Whether the shell can take a command: not closed, and the server has not ended it (a
    /// cheap local check, no round trip; a connection that died silently is noticed by `run`).
    public var isOpen: Bool {
        session.lock.withLock {
            guard let channel else { return false }
            if (try? channel.readAvailable()) == nil || channel.atEOF {
                discard()
                return false
            }
            return true
        }
    }

    /// Ends the remote loop (EOF on its input) and closes the channel, waiting at most 2 s.
    public func close() {
        session.lock.withLock {
            guard let channel else { return }
            self.channel = nil
            channel.deadline = .now + .seconds(2)
            channel.timeout = .seconds(2)
            if (try? channel.finish()) == nil, !channel.abandon() {
                session.broken = SSHError(
                    message: "the connection was left unusable by a shell that could not be closed; open a new session",
                    function: "libssh2_channel_close",
                    host: session.host.endpoint,
                    kind: .channel
                )
            }
        }
    }

    /// Runs `command` (a POSIX `sh` command line) in the shell and returns its exit status, stdout
    /// and stderr. `writeInput`, when given, streams the command's stdin through the writer it is
    /// handed; otherwise stdin is empty. Output is read while input is written.
    ///
    /// Throws `.timeout` when the command does not finish within `timeout` (it may keep running on
    /// the host until it writes output), `.channel` when the shell is closed or its stream breaks,
    /// and what `writeInput` throws; in each case the shell is closed (and the command killed when
    /// its input was cut).
    public func run(
        _ command: String,
        timeout: Duration? = nil,
        writeInput: (((Data) throws -> Void) throws -> Void)? = nil
    ) throws -> ExecResult {
        try session.lock.withLock {
            guard let channel else {
                throw SSHError(message: "the shell was closed; open a new one", function: "run", host: session.host.endpoint, kind: .channel)
            }
            channel.deadline = timeout.map { ContinuousClock.now + $0 }
            channel.timeout = timeout
            channel.program = command.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? command
            channel.discardOutput()
            channel.waitingSince = .now
            do {
                let token = Self.makeToken()
                let text = Data(command.utf8)
                var pending = Data("\(text.count) \(token) \(writeInput == nil ? "n" : "i")\n".utf8) + text
                if let writeInput {
                    var chunk = Data()
                    func flush() throws {
                        guard !chunk.isEmpty else { return }
                        pending += Data("\(chunk.count)\n".utf8)
                        pending += chunk
                        chunk.removeAll(keepingCapacity: true)
                        try Self.send(&pending, on: channel)
                    }
                    try writeInput { data in
                        var offset = data.startIndex
                        while offset < data.endIndex {
                            let end = min(data.endIndex, offset + (Self.frameSize - chunk.count))
                            chunk += data[offset..<end]
                            offset = end
                            if chunk.count >= Self.frameSize { try flush() }
                        }
                    }
                    try flush()
                    pending += Data("0\n".utf8)
                }
                try Self.send(&pending, on: channel)
                let (stdout, stderr) = try Self.readUntil(
                    channel,
                    stdoutMarker: Data("\u{1e}DEVSYS \(token) ".utf8),
                    stderrMarker: Data("\u{1e}DEVSYS \(token)\n".utf8)
                )
                guard let status = Int32(String(decoding: stdout.status, as: UTF8.self)) else {
                    throw SSHError(
                        message: "the shell sent an unreadable exit status '\(String(decoding: stdout.status, as: UTF8.self))'",
                        function: "run",
                        host: session.host.endpoint,
                        kind: .channel
                    )
                }
                return ExecResult(status: status, stdout: stdout.output, stderr: stderr.output)
            } catch {
                discard()
                throw error
            }
        }
    }

    // MARK: Framing

    /// 16 random hex digits: a command cannot print the end-of-output line by chance.
    private static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%016llx", generator.next() as UInt64)
    }

    /// Writes `pending` to the channel in `writeSize` pieces and empties it.
    private static func send(_ pending: inout Data, on channel: ExecChannel) throws {
        var offset = pending.startIndex
        while offset < pending.endIndex {
            let end = min(pending.endIndex, offset + writeSize)
            try channel.write(pending[offset..<end])
            offset = end
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// What came before a marker, and (stdout) the rest of the marker's line.
    private struct Marked {
        var output: Data
        var status: Data
    }

    /// Reads both streams until each holds its marker (stdout's followed by a line end), and
    /// returns what came before each. Throws `.channel` when the shell ends first, `.timeout` at
    /// the channel's deadline.
    private static func readUntil(_ channel: ExecChannel, stdoutMarker: Data, stderrMarker: Data) throws -> (Marked, Marked) {
        var found: (stdout: Marked?, stderr: Marked?) = (nil, nil)
        var searched = (stdout: 0, stderr: 0)
        while true {
            let progressed = try channel.readAvailable()
            if found.stdout == nil {
                found.stdout = find(stdoutMarker, in: channel.stdout, from: &searched.stdout, needsLineEnd: true)
            }
            if found.stderr == nil {
                found.stderr = find(stderrMarker, in: channel.stderr, from: &searched.stderr, needsLineEnd: false)
            }
            if let stdout = found.stdout, let stderr = found.stderr { return (stdout, stderr) }
            if channel.atEOF {
                throw SSHError(
                    message: "the remote shell ended unexpectedly: \(String(decoding: channel.stderr.suffix(500), as: UTF8.self))",
                    function: "run",
                    host: channel.connection.host.endpoint,
                    kind: .channel
                )
            }
            if !progressed { try channel.wait("libssh2_channel_read_ex") }
        }
    }

    /// Looks for `marker` in `data` from `searched` on (moving it forward for the next look).
    private static func find(_ marker: Data, in data: Data, from searched: inout Int, needsLineEnd: Bool) -> Marked? {
        guard let range = data.range(of: marker, in: searched..<data.endIndex) else {
            searched = max(searched, data.endIndex - marker.count + 1)
            return nil
        }
        guard needsLineEnd else { return Marked(output: Data(data[..<range.lowerBound]), status: Data()) }
        guard let end = data[range.upperBound...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return Marked(output: Data(data[..<range.lowerBound]), status: Data(data[range.upperBound..<end]))
    }

    /// Closes the channel after a failure; marks the session broken when even that failed.
    /// Called with the session's lock held.
    private func discard() {
        guard let channel else { return }
        self.channel = nil
        if !channel.abandon() {
            session.broken = SSHError(
                message: "the connection was left unusable by a failed shell command; open a new session",
                function: "libssh2_channel_close",
                host: session.host.endpoint,
                kind: .channel
            )
        }
    }
}

extension SSHSession {
    /// Opens a long-lived shell on this session for running many commands without a channel each.
    /// Throws `.channel` (also when an earlier failure left the connection unusable) or `.timeout`.
    public func openShell() throws -> SSHShell {
        try lock.withLock {
            if let broken { throw broken }
            return try SSHShell(session: self)
        }
    }

    /// Whether an earlier failure left the connection unusable; then open a new session.
    public var isBroken: Bool { lock.withLock { broken != nil } }
}
