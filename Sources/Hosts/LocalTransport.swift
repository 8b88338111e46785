import Foundation
import Processes
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `local` host transport: runs commands with `/bin/sh -c` on this machine, for hosts that are
/// a folder here (the demo's default, DESIGN §5). It knows nothing of the host's root: the paths
/// are in the commands `HostDeployer` sends.
///
/// The shell runs in a process group of its own with the controller's clean environment
/// (`PATH`, `HOME`, `LANG`). stdin, stdout and stderr are socket pairs, so a command that stops
/// reading its input gives `EPIPE` rather than a SIGPIPE for the whole controller. Output is read
/// on threads of its own while the input is written.
public struct LocalTransport: HostTransport {
    public let name: String
    public var environment: [String: String]
    /// Between SIGTERM and SIGKILL when a command times out.
    public var killGrace: Duration

    public init(name: String = "local", environment: [String: String] = ProcessRunner.cleanEnvironment(), killGrace: Duration = .seconds(2)) {
        self.name = name
        self.environment = environment
        self.killGrace = killGrace
    }

    public func run(_ command: String, timeout: Duration?, writeInput: (((Data) throws -> Void) throws -> Void)?) throws -> RemoteResult {
        let child = try LocalChild.spawn(command: command, environment: environment, host: name)
        let stdout = StreamReader(fd: child.stdout)
        let stderr = StreamReader(fd: child.stderr)
        let watchdog = Watchdog(pid: child.pid, timeout: timeout, killGrace: killGrace)

        var inputError: Error?
        if let writeInput {
            do {
                try writeInput { data in try child.write(data, host: name) }
            } catch let error as HostTransportError {
                // The command closed its stdin; its exit status and stderr tell why.
                if case .inputRejected = error {} else { inputError = error }
            } catch {
                inputError = error
            }
            if inputError != nil {
                // A cut input must never be acted on (a tar stream cut at a file boundary looks complete).
                kill(-child.pid, SIGKILL)
            }
        }
        close(child.stdin)

        let status = child.wait()
        watchdog.finish()
        // Whatever the shell left running in its group goes with it, so the readers see EOF.
        kill(-child.pid, SIGKILL)
        let out = stdout.join()
        let err = stderr.join()
        if let inputError { throw inputError }
        if watchdog.fired, let timeout { throw HostTransportError.timedOut(host: name, command: command, after: timeout) }
        return RemoteResult(status: status, stdout: out, stderr: err)
    }
}

/// The shell process and the parent's ends of its three sockets.
private struct LocalChild {
    let pid: pid_t
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32

    static func spawn(command: String, environment: [String: String], host: String) throws -> LocalChild {
        var pairs: [[Int32]] = []
        defer {
            // The child's ends are closed in the parent whatever happens.
            for pair in pairs { close(pair[1]) }
        }
        for _ in 0..<3 {
            var pair: [Int32] = [-1, -1]
            #if canImport(Glibc)
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            #else
            let type = SOCK_STREAM
            #endif
            guard socketpair(AF_UNIX, type, 0, &pair) == 0 else {
                let reason = String(cString: strerror(errno))
                for pair in pairs { close(pair[0]) }
                throw HostTransportError.startFailed(host: host, reason: "socketpair: \(reason)")
            }
            pairs.append(pair)
        }
        // stdin is write-only for us, stdout/stderr read-only.
        shutdown(pairs[0][0], Int32(SHUT_RD))
        shutdown(pairs[1][0], Int32(SHUT_WR))
        shutdown(pairs[2][0], Int32(SHUT_WR))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pairs[0][1], 0)
        posix_spawn_file_actions_adddup2(&actions, pairs[1][1], 1)
        posix_spawn_file_actions_adddup2(&actions, pairs[2][1], 2)

        let pid: pid_t
        do {
            pid = try ProcessGroupSpawn.spawn("/bin/sh", arguments: ["/bin/sh", "-c", command], environment: environment, actions: &actions)
        } catch {
            for pair in pairs { close(pair[0]) }
            throw HostTransportError.startFailed(host: host, reason: "posix_spawn /bin/sh: \(error)")
        }
        return LocalChild(pid: pid, stdin: pairs[0][0], stdout: pairs[1][0], stderr: pairs[2][0])
    }

    /// Writes all of `data` to the child's stdin; `inputRejected` once the child closed it.
    func write(_ data: Data, host: String) throws {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = send(stdin, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw HostTransportError.inputRejected(host: host, reason: String(cString: strerror(errno)))
                }
                offset += written
            }
        }
    }

    /// Reaps the shell; its exit status, or 128 + the signal that ended it (as shells report it).
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// Reads one stream to EOF on a thread of its own.
private final class StreamReader: @unchecked Sendable {
    private let fd: Int32
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(fd: Int32) {
        self.fd = fd
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    data.append(contentsOf: buffer[0..<count])
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            done.signal()
        }
    }

    /// Everything read; waits for EOF. `data` is only touched by the thread before `signal`.
    func join() -> Data {
        done.wait()
        return data
    }
}

/// Stops the child's process group at the timeout: SIGTERM, then SIGKILL after the grace.
private final class Watchdog: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let didFire = Atomic<Bool>(false)

    init(pid: pid_t, timeout: Duration?, killGrace: Duration) {
        guard let timeout else { return }
        Thread.detachNewThread { [self] in
            guard finished.wait(timeout: .now() + Self.interval(timeout)) == .timedOut else { return }
            didFire.store(true, ordering: .releasing)
            kill(-pid, SIGTERM)
            if finished.wait(timeout: .now() + Self.interval(killGrace)) == .timedOut { kill(-pid, SIGKILL) }
        }
    }

    var fired: Bool { didFire.load(ordering: .acquiring) }

    func finish() {
        // Two signals: one for each wait the thread may be in.
        finished.signal()
        finished.signal()
    }

    private static func interval(_ duration: Duration) -> DispatchTimeInterval {
        .milliseconds(Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000))
    }
}
