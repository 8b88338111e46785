import CSSH2
import Foundation

/// One exec channel: the single owner of its `LIBSSH2_CHANNEL`, freed in `deinit`. Collects the
/// command's stdout and stderr as they arrive, whether the caller is writing input or waiting.
final class ExecChannel {
    let connection: SSHConnection
    let pointer: OpaquePointer
    /// When the whole command must be done; nil for no limit. A shell channel sets it per command.
    var deadline: ContinuousClock.Instant?
    var timeout: Duration?
    /// The command's first word, for errors.
    var program: String
    private(set) var stdout = Data()
    private(set) var stderr = Data()
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Set when the command was given up on; see `abandon`.
    private var abandoned = false
    /// Since when the current command runs: the server's silence is counted from here at most.
    var waitingSince = ContinuousClock.now

    /// Opens a session channel and starts `command` on it. Throws `.channel` or `.timeout`.
    init(connection: SSHConnection, command: String, deadline: ContinuousClock.Instant?, timeout: Duration?) throws {
        self.connection = connection
        self.deadline = deadline
        self.timeout = timeout
        self.program = command.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? command
        let session = connection.session
        let stepDeadline = Self.earlier(deadline, .now + connection.host.idleTimeout)
        var opened: OpaquePointer?
        while opened == nil {
            // A larger window than libssh2's 2 MiB default lets uploads run ahead of the round trips.
            opened = devsys_ssh2_channel_open_session(session, 8 * 1024 * 1024)
            if opened != nil { break }
            let code = libssh2_session_last_errno(session)
            guard code == LIBSSH2_ERROR_EAGAIN else {
                throw SSHError.last(session, code, "libssh2_channel_open_ex", host: connection.host.endpoint, kind: .channel)
            }
            try connection.waitForSocket(until: stepDeadline, function: "libssh2_channel_open_ex")
        }
        pointer = opened!
        let channel = pointer
        do {
            try connection.retry("libssh2_channel_process_startup", deadline: stepDeadline, kind: .channel) {
                devsys_ssh2_channel_exec(channel, command, UInt32(command.utf8.count))
            }
        } catch let error as SSHError {
            throw renamed(error)
        }
    }

    deinit {
        // An abandoned command's channel cannot be freed until the server closes it, which sshd
        // only does once the command exits; the session frees it then, or when it goes away.
        guard !abandoned else { return }
        let giveUp = ContinuousClock.now + .seconds(1)
        while libssh2_channel_free(pointer) == LIBSSH2_ERROR_EAGAIN {
            guard (try? connection.waitForSocket(until: giveUp, function: "libssh2_channel_free")) != nil else { break }
        }
    }

    private static func earlier(_ a: ContinuousClock.Instant?, _ b: ContinuousClock.Instant) -> ContinuousClock.Instant {
        a.map { min($0, b) } ?? b
    }

    /// A timeout while this command runs names the command and its limit.
    private func renamed(_ error: SSHError) -> SSHError {
        guard error.kind == .timeout, let timeout, let deadline, deadline <= .now else { return error }
        var error = error
        error.message = "'\(program)' on \(connection.host.endpoint) did not finish within \(timeout.secondsText); it may still be running there"
        return error
    }

    // MARK: Input

    func write(_ data: Data) throws {
        let channel = pointer
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
            var offset = 0
            while offset < bytes.count {
                let written = libssh2_channel_write_ex(channel, 0, base + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                    connection.lastActivity = .now
                } else if written == Int(LIBSSH2_ERROR_EAGAIN) {
                    // The window is full: take in output so the command can go on reading.
                    if try !readAvailable() { try wait("libssh2_channel_write_ex") }
                } else {
                    throw SSHError.last(
                        connection.session,
                        Int32(clamping: written),
                        "libssh2_channel_write_ex",
                        host: connection.host.endpoint,
                        kind: .channel
                    )
                }
            }
        }
    }

    // MARK: Output

    /// Closes the input, reads all output until the command ends and returns its result.
    func finish() throws -> ExecResult {
        let channel = pointer
        try retry("libssh2_channel_send_eof") { libssh2_channel_send_eof(channel) }
        while true {
            let progressed = try readAvailable()
            if libssh2_channel_eof(channel) == 1 {
                _ = try readAvailable()
                break
            }
            if !progressed { try wait("libssh2_channel_read_ex") }
        }
        // The exit status arrives with or after EOF; it is certain to be in once the channel closed.
        try retry("libssh2_channel_close") { libssh2_channel_close(channel) }
        try retry("libssh2_channel_wait_closed") { libssh2_channel_wait_closed(channel) }
        var signal: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        _ = libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
        var exitSignal: String?
        if let signal {
            exitSignal = String(cString: signal)
            // libssh2 allocated it with the session's allocator, which is the default `free`.
            free(signal)
        }
        let status = exitSignal == nil ? libssh2_channel_get_exit_status(channel) : -1
        return ExecResult(status: status, exitSignal: exitSignal, stdout: stdout, stderr: stderr)
    }

    /// Gives up on the command: sends EOF and a close, without waiting for the server's close
    /// (sshd sends it only when the command exits; libssh2 1.10 cannot signal it). The session
    /// stays usable; returns false when even sending the close failed.
    func abandon() -> Bool {
        abandoned = true
        let giveUp = ContinuousClock.now + .milliseconds(200)
        while true {
            let code = libssh2_channel_close(pointer)
            if code == 0 { return true }
            if code != LIBSSH2_ERROR_EAGAIN { return false }
            // EAGAIN now means the close is sent and libssh2 waits for the server's: good enough.
            if libssh2_session_block_directions(connection.session) & LIBSSH2_SESSION_BLOCK_OUTBOUND == 0 { return true }
            guard (try? connection.waitForSocket(until: giveUp, function: "libssh2_channel_close")) != nil else { return false }
        }
    }

    /// Whether the server sent EOF: the command closed its stdout and stderr (for a shell: it ended).
    var atEOF: Bool { libssh2_channel_eof(pointer) == 1 }

    /// Forgets the output collected so far (a shell channel, between commands).
    func discardOutput() {
        stdout.removeAll(keepingCapacity: true)
        stderr.removeAll(keepingCapacity: true)
    }

    /// Reads what has arrived on stdout and stderr; returns whether anything (data or EOF) came.
    func readAvailable() throws -> Bool {
        connection.noteIncomingData()
        var progressed = false
        for stream in [Int32(0), Int32(SSH_EXTENDED_DATA_STDERR)] {
            while true {
                let count = buffer.withUnsafeMutableBytes { bytes in
                    libssh2_channel_read_ex(pointer, stream, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
                }
                if count > 0 {
                    progressed = true
                    connection.lastActivity = .now
                    if stream == 0 { stdout.append(contentsOf: buffer[0..<count]) } else { stderr.append(contentsOf: buffer[0..<count]) }
                    continue
                }
                if count == Int(LIBSSH2_ERROR_EAGAIN) { break }
                if count == 0 {
                    if libssh2_channel_eof(pointer) == 1 { progressed = true }
                    break
                }
                throw SSHError.last(
                    connection.session,
                    Int32(clamping: count),
                    "libssh2_channel_read_ex",
                    host: connection.host.endpoint,
                    kind: .channel
                )
            }
        }
        return progressed
    }

    // MARK: Waiting

    /// Waits for the socket until the command's deadline, sending keepalives while the command is
    /// quiet. A command may be silent for as long as it likes, but the server must answer the
    /// keepalives: after `idleTimeout` without a byte from it (or a byte taken by it) the
    /// connection is taken for lost (a host cut off the network, a hung sshd) and `.channel` thrown.
    func wait(_ function: String) throws {
        let host = connection.host
        do {
            let woke = try connection.waitForSocket(until: deadline, maximum: host.keepalivePeriod, function: function)
            if !woke {
                var next: Int32 = 0
                _ = libssh2_keepalive_send(connection.session, &next)
            }
        } catch let error as SSHError {
            throw renamed(error)
        }
        let quietSince = max(connection.lastActivity, waitingSince)
        if ContinuousClock.now - quietSince > host.idleTimeout {
            throw SSHError(
                code: LIBSSH2_ERROR_TIMEOUT,
                message: "the connection is lost: nothing came back for \(host.idleTimeout.secondsText), not even answers to keepalives, "
                    + "while '\(program)' was running; is the host up and reachable?",
                function: function,
                host: host.endpoint,
                kind: .channel
            )
        }
    }

    private func retry(_ function: String, _ call: () -> Int32) throws {
        let stepDeadline = Self.earlier(deadline, .now + connection.host.idleTimeout)
        do {
            try connection.retry(function, deadline: stepDeadline, kind: .channel, call)
        } catch let error as SSHError {
            throw renamed(error)
        }
    }
}
