import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A long-running program a test starts (sshd, php -S), spawned with posix_spawn and reaped with
/// waitpid here. Not Foundation's `Process`: with two of those running, corelibs Foundation's
/// monitor thread can block in `waitpid` on the one still running and never see the other exit.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `program` with `arguments`, stdin from /dev/null and stdout and stderr to `output`
    /// (appended; /dev/null when nil), with `environment` (nil: this process's).
    public init(_ program: String, _ arguments: [String], environment: [String: String]? = nil, output: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for entry in envp ?? [] { free(entry) } }
        var pid: pid_t = 0
        let spawned =
            envp.map { envp in posix_spawn(&pid, program, &actions, nil, argv, envp) } ?? posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard spawned == 0 else { throw TestFailure("cannot run \(program): \(String(cString: strerror(spawned)))") }
        self.pid = pid
    }

    /// Whether it still runs (reaps it when it ended).
    public var isRunning: Bool {
        lock.withLock {
            guard exitStatus == nil else { return false }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return true }
            exitStatus = status
            return false
        }
    }

    /// The raw wait status once it ended.
    public var status: Int32? { lock.withLock { exitStatus } }

    /// Sends `signal` (when still running) and waits for it to end.
    public func stop(signal: Int32 = SIGTERM) {
        guard isRunning else { return }
        kill(pid, signal)
        lock.withLock {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            exitStatus = status
        }
    }
}
