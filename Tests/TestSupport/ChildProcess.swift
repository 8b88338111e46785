import CPosix
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program a test or benchmark starts (sshd, php -S, devsys, git, a shell pipeline), spawned with
/// posix_spawn and reaped with waitpid here. Not Foundation's `Process`: with sshd (which closes
/// the descriptors it inherits) or several children running as `Process`es, corelibs Foundation's
/// monitor thread can block in `waitpid` on one still running and never see another exit, and a
/// test waits for ever.
///
/// A child still running when this goes away is killed (SIGKILL) and reaped.
public final class ChildProcess: @unchecked Sendable {
    /// Where the child's stdout and stderr go.
    public enum Output: Sendable {
        /// Both to /dev/null.
        case discarded
        /// Both appended to one file (created when missing): a daemon's log.
        case log(String)
        /// Each to a file of its own, read by `wait()` once the child ended.
        case captured
    }

    /// How a child ended and what it printed.
    public struct Result: Sendable {
        /// The exit status, or 128 + the signal that killed it.
        public var status: Int32
        /// What it printed on stdout; with `.log`, the log file (stdout and stderr); empty when discarded.
        public var stdout: String
        /// What it printed on stderr when `.captured`, else empty.
        public var stderr: String
    }

    public let pid: pid_t
    /// Whether it leads a process group of its own, which `stop(signal:)` signals as a whole.
    public let ownProcessGroup: Bool
    private let output: Output
    /// Holds the captured output and stdin's file; removed with this object.
    private let folder: URL?
    private let lock = NSLock()
    private var waitStatus: Int32?

    /// Starts `program` (an absolute path) with `arguments`.
    ///
    /// - Parameters:
    ///   - environment: the child's environment; nil: this process's.
    ///   - input: what the child reads on stdin; nil: /dev/null.
    ///   - output: where stdout and stderr go.
    ///   - directory: the child's working directory; nil: this process's.
    ///   - ownProcessGroup: start it in a process group of its own, so `stop(signal:)` reaches
    ///     whatever it started too (sshd's sessions, a shell's commands).
    ///   - closeInheritedDescriptors: close every descriptor above 2 this process has open in the
    ///     child: one that kept another test's pipe open would keep that test waiting for the pipe's end.
    /// - Throws: `TestFailure` when the program cannot be started or its files cannot be made.
    public init(
        _ program: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        input: Data? = nil,
        output: Output = .discarded,
        directory: String? = nil,
        ownProcessGroup: Bool = false,
        closeInheritedDescriptors: Bool = false
    ) throws {
        self.output = output
        self.ownProcessGroup = ownProcessGroup
        var needsFolder = input != nil
        if case .captured = output { needsFolder = true }
        var folder: URL?
        if needsFolder {
            let made = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-child-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: made, withIntermediateDirectories: true)
            folder = made
        }
        self.folder = folder
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let directory {
            // First, so that the child starts there; every path below is absolute.
            guard cposix_spawn_file_actions_addchdir(&actions, directory) == 0 else { throw TestFailure("cannot start \(program) in \(directory)") }
        }
        if let input, let folder {
            let path = folder.appendingPathComponent("in").path
            try input.write(to: URL(fileURLWithPath: path))
            posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        switch output {
        case .discarded:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .log(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .captured:
            let folder = folder!
            posix_spawn_file_actions_addopen(&actions, 1, folder.appendingPathComponent("out").path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, folder.appendingPathComponent("err").path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        if closeInheritedDescriptors {
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for fd in open.compactMap({ Int32($0) }) where fd > 2 {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for entry in envp ?? [] { free(entry) } }
        var pid: pid_t = 0
        let spawned =
            envp.map { envp in posix_spawn(&pid, program, &actions, &attributes, argv, envp) }
            ?? posix_spawn(&pid, program, &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            if let folder { try? FileManager.default.removeItem(at: folder) }
            throw TestFailure("cannot run \(program): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
    }

    deinit {
        if !hasExited { stop(signal: SIGKILL) }
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// Whether it has ended (reaping it when it has).
    public var hasExited: Bool {
        lock.withLock {
            guard waitStatus == nil else { return true }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return false }
            waitStatus = status
            return true
        }
    }

    /// Waits for it to end; how it ended and what it printed.
    @discardableResult
    public func wait() -> Result {
        let raw = lock.withLock {
            if waitStatus == nil {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                waitStatus = status
            }
            return waitStatus ?? 0
        }
        // WIFEXITED/WEXITSTATUS are macros Swift does not import.
        let status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        switch output {
        case .discarded:
            return Result(status: status, stdout: "", stderr: "")
        case .log(let path):
            return Result(status: status, stdout: read(path), stderr: "")
        case .captured:
            let folder = folder!
            return Result(
                status: status,
                stdout: read(folder.appendingPathComponent("out").path),
                stderr: read(folder.appendingPathComponent("err").path)
            )
        }
    }

    /// Sends `signal` (to its whole process group when it has one of its own) unless it was
    /// already reaped, and waits for it to end.
    public func stop(signal: Int32 = SIGTERM) {
        guard lock.withLock({ waitStatus == nil }) else { return }
        if ownProcessGroup { kill(-pid, signal) }
        kill(pid, signal)
        wait()
    }

    /// Runs `program` to its end and requires it to succeed; returns its stdout.
    ///
    /// - Throws: `TestFailure` with its stderr when it cannot start or exits non-zero.
    @discardableResult
    public static func check(
        _ program: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        input: Data? = nil,
        directory: String? = nil,
        closeInheritedDescriptors: Bool = false
    ) throws -> String {
        let result = try ChildProcess(
            program,
            arguments,
            environment: environment,
            input: input,
            output: .captured,
            directory: directory,
            closeInheritedDescriptors: closeInheritedDescriptors
        ).wait()
        guard result.status == 0 else {
            throw TestFailure("\(program) \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout
    }
}
