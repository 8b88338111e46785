import CPosix
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the commands of agents: an argv in a folder, with a small clean environment, a timeout
/// and capped output.
///
/// The child is spawned with `posix_spawn` in a process group of its own (Foundation's `Process`
/// cannot set one on Linux), so the timeout stops the whole tree: SIGTERM to the group, then
/// SIGKILL after `killGrace`. When the child ends, whatever it left running in its group is killed
/// too, and the pipes are read for at most `drainGrace` more — a grandchild that escaped the group
/// and holds stdout open cannot hang the runner. stdin is `/dev/null`; descriptors other than 0–2
/// are closed in the child.
///
/// An invocation with a `Sandbox` runs inside one (see ``SandboxHost``): its cgroup is made with
/// the limits before the start and ended after it, and the outcome says when the kernel killed a
/// process for its memory.
public struct ProcessRunner: Sendable {
    /// One command to run.
    public struct Invocation: Sendable, Hashable {
        /// The program and its arguments; no shell unless it is `["sh", "-c", …]`. A program name
        /// without `/` is looked up in the child's `PATH`.
        public var arguments: [String]
        public var workingDirectory: URL
        /// Added to the runner's clean base environment (and overriding it).
        public var environment: [String: String]
        /// Nil: no limit.
        public var timeout: Duration?
        /// Where it runs; nil: as the controller's own user, with no limits but the timeout.
        public var sandbox: Sandbox?

        public init(
            arguments: [String],
            workingDirectory: URL,
            environment: [String: String] = [:],
            timeout: Duration? = nil,
            sandbox: Sandbox? = nil
        ) {
            self.arguments = arguments
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.timeout = timeout
            self.sandbox = sandbox
        }
    }

    /// The variables every child gets: `PATH`, `HOME` and `LANG` — never the controller's secrets.
    public var baseEnvironment: [String: String]
    /// Between SIGTERM and SIGKILL at the timeout.
    public var killGrace: Duration
    /// How long the pipes are still read once the child has exited.
    public var drainGrace: Duration
    /// Bytes kept at the start and at the end of each stream.
    public var outputLimit: Int

    public init(
        baseEnvironment: [String: String] = ProcessRunner.cleanEnvironment(),
        killGrace: Duration = .seconds(2),
        drainGrace: Duration = .milliseconds(500),
        outputLimit: Int = 32 * 1024
    ) {
        self.baseEnvironment = baseEnvironment
        self.killGrace = killGrace
        self.drainGrace = drainGrace
        self.outputLimit = outputLimit
    }

    /// `PATH`, `HOME` and `LANG` from `environment` (the controller's), with defaults when unset.
    public static func cleanEnvironment(from environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        [
            "PATH": environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": environment["HOME"] ?? "/",
            "LANG": environment["LANG"] ?? "C.UTF-8",
        ]
    }

    /// Runs the command to its end (or its timeout) and returns how it went. A non-zero exit is an
    /// outcome, not an error. Throws `ProcessRunnerError` when it cannot be started (no such
    /// program, no such folder), and `CancellationError` when the task was cancelled (the process
    /// group is stopped first).
    public func run(_ invocation: Invocation) async throws -> ProcessOutcome {
        guard let program = invocation.arguments.first, !program.isEmpty else { throw ProcessRunnerError.emptyCommand }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: invocation.workingDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ProcessRunnerError.workingDirectoryMissing(invocation.workingDirectory.path)
        }
        let environment = baseEnvironment.merging(invocation.environment) { $1 }
        let executable = try Self.locate(program, path: environment["PATH"] ?? "", workingDirectory: invocation.workingDirectory.path)
        let watch = ChildWatch(timeout: invocation.timeout, killGrace: killGrace, drainGrace: drainGrace, outputLimit: outputLimit)
        let outcome = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutcome, Error>) in
                // A thread of its own: the sandbox's cgroup and folders, poll(2) and reaping all
                // block, and must not hold one of the few cooperative threads. The child is spawned
                // from it too, as a sandbox dies with the thread that started it (PR_SET_PDEATHSIG),
                // and this one lives until the child is reaped.
                Thread.detachNewThread {
                    continuation.resume(
                        with: Result { try Self.runToEnd(invocation, executable: executable, environment: environment, watch: watch) }
                    )
                }
            }
        } onCancel: {
            watch.cancel()
        }
        if watch.wasCancelled { throw CancellationError() }
        return outcome
    }

    /// Spawns the invocation (in its sandbox, when it has one) and watches it to its end, on the
    /// calling thread; the sandbox's leftovers are ended before it returns.
    private static func runToEnd(
        _ invocation: Invocation,
        executable: String,
        environment: [String: String],
        watch: ChildWatch
    ) throws -> ProcessOutcome {
        var environment = environment
        var arguments = invocation.arguments
        let step = try invocation.sandbox.map { try SandboxStep.prepare($0, host: .current) }
        if let step {
            environment["HOME"] = Sandbox.home
            environment.merge(step.launch.rlimitVariables) { $1 }
            arguments = step.launch.arguments(
                executable: executable,
                arguments: invocation.arguments,
                workingDirectory: invocation.workingDirectory.path
            )
        }
        let child: SpawnedChild
        do {
            child = try SpawnedChild.spawn(
                executable: step == nil ? executable : arguments[0],
                arguments: arguments,
                environment: environment,
                workingDirectory: invocation.workingDirectory.path
            )
        } catch {
            step?.finish()
            throw error
        }
        var outcome = watch.run(child)
        if let step { outcome.memoryExceeded = step.finish() }
        return outcome
    }

    /// The file to execute for `program`: itself when it holds a `/`, else the first executable
    /// file of that name in `path`.
    static func locate(_ program: String, path: String, workingDirectory: String) throws -> String {
        if program.contains("/") {
            let full = program.hasPrefix("/") ? program : workingDirectory + "/" + program
            guard access(full, X_OK) == 0 else { throw ProcessRunnerError.programNotFound(program, searched: full) }
            return full
        }
        for folder in path.split(separator: ":", omittingEmptySubsequences: false) {
            let base = folder.isEmpty ? workingDirectory : (folder.hasPrefix("/") ? String(folder) : workingDirectory + "/" + folder)
            let candidate = base + "/" + program
            var info = stat()
            if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        throw ProcessRunnerError.programNotFound(program, searched: "PATH=\(path)")
    }
}

/// Why a command could not be started.
public enum ProcessRunnerError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyCommand
    case workingDirectoryMissing(String)
    case programNotFound(String, searched: String)
    /// A system call failed: its name and `errno`'s text.
    case system(String, String)

    public var description: String {
        switch self {
        case .emptyCommand: "the command is empty: give at least the program to run"
        case .workingDirectoryMissing(let path): "cannot run a command in \(path): the folder does not exist"
        case .programNotFound(let program, let searched):
            "cannot run '\(program)': no executable file found (looked in \(searched)); install it or fix the command"
        case .system(let call, let message): "\(call) failed: \(message)"
        }
    }

    static func failure(_ call: String, _ code: Int32 = errno) -> ProcessRunnerError {
        .system(call, String(cString: strerror(code)))
    }
}

/// A started child: its pid (also its process group id) and the read ends of its output pipes.
struct SpawnedChild: Sendable {
    let pid: pid_t
    let stdout: Int32
    let stderr: Int32

    static func spawn(executable: String, arguments: [String], environment: [String: String], workingDirectory: String) throws -> SpawnedChild {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        // Close-on-exec from the start, so a command spawned meanwhile by another thread cannot inherit them.
        guard cposix_pipe2(&outPipe, O_CLOEXEC) == 0 else { throw ProcessRunnerError.failure("pipe2") }
        guard cposix_pipe2(&errPipe, O_CLOEXEC) == 0 else {
            let error = ProcessRunnerError.failure("pipe2")
            close(outPipe[0])
            close(outPipe[1])
            throw error
        }
        // The parent's write ends close whatever happens; the read ends only on failure.
        defer {
            close(outPipe[1])
            close(errPipe[1])
        }
        var started = false
        defer {
            if !started {
                close(outPipe[0])
                close(errPipe[0])
            }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        _ = cposix_spawn_file_actions_addchdir(&actions, workingDirectory)
        // Descriptors the controller opened without close-on-exec (a database, a socket) stay behind.
        _ = cposix_spawn_file_actions_addclosefrom(&actions, 3)

        let pid: pid_t
        do {
            pid = try ProcessGroupSpawn.spawn(executable, arguments: arguments, environment: environment, actions: &actions)
        } catch {
            if error.code == ENOENT && access(workingDirectory, F_OK) != 0 { throw ProcessRunnerError.workingDirectoryMissing(workingDirectory) }
            throw ProcessRunnerError.failure("posix_spawn \(executable)", error.code)
        }
        started = true
        return SpawnedChild(pid: pid, stdout: outPipe[0], stderr: errPipe[0])
    }
}

/// Watches one child on a thread of its own: reads both pipes into capped buffers, reaps the
/// child, enforces the timeout and cancellation. Its state lives in `run`'s locals, but for the
/// cancellation flag, which another task sets.
final class ChildWatch: Sendable {
    private let timeout: Duration?
    private let killGrace: Duration
    private let drainGrace: Duration
    private let outputLimit: Int
    private let cancelled = Atomic<Bool>(false)

    init(timeout: Duration?, killGrace: Duration, drainGrace: Duration, outputLimit: Int) {
        self.timeout = timeout
        self.killGrace = killGrace
        self.drainGrace = drainGrace
        self.outputLimit = outputLimit
    }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
    }

    var wasCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func run(_ child: SpawnedChild) -> ProcessOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = timeout.map { start + $0 }
        var stdout = CapturedOutput(limit: outputLimit)
        var stderr = CapturedOutput(limit: outputLimit)
        var descriptors = [pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0), pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0)]
        var termination: ProcessOutcome.Termination?
        var timedOut = false
        var termSentAt: ContinuousClock.Instant?
        var killSent = false
        var drainUntil: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        while true {
            let now = clock.now
            if termination == nil {
                var status: Int32 = 0
                let reaped = waitpid(child.pid, &status, WNOHANG)
                if reaped == child.pid {
                    termination = Self.termination(from: status)
                    // Whatever it left behind in its group goes with it.
                    kill(-child.pid, SIGKILL)
                    drainUntil = now + drainGrace
                } else if reaped < 0 && errno != EINTR {
                    termination = .exited(-1)
                    drainUntil = now
                }
            }
            if termination == nil {
                let stopRequested = (deadline.map { now >= $0 } ?? false) || wasCancelled
                if stopRequested && termSentAt == nil {
                    timedOut = !wasCancelled
                    kill(-child.pid, SIGTERM)
                    termSentAt = now
                } else if let termSentAt, !killSent, now >= termSentAt + killGrace {
                    kill(-child.pid, SIGKILL)
                    killSent = true
                }
            }
            let open = descriptors.contains { $0.fd >= 0 }
            if let drainUntil, !open || now >= drainUntil { break }

            // Wake for output, and at least every 50 ms to reap the child and check the clock.
            var wait = Duration.milliseconds(50)
            if termination == nil, termSentAt == nil, let deadline { wait = min(wait, max(.zero, deadline - now)) }
            if let drainUntil { wait = min(wait, max(.zero, drainUntil - now)) }
            let milliseconds = Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
            let ready = descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), milliseconds) }
            guard ready > 0 else { continue }
            for index in descriptors.indices where descriptors[index].fd >= 0 && descriptors[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptors[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    buffer.withUnsafeBytes { bytes in
                        let chunk = UnsafeRawBufferPointer(rebasing: bytes[0..<count])
                        if index == 0 { stdout.append(chunk) } else { stderr.append(chunk) }
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(descriptors[index].fd)
                    descriptors[index].fd = -1
                }
            }
        }
        for descriptor in descriptors where descriptor.fd >= 0 { close(descriptor.fd) }
        if termination == nil {
            // Unreachable in practice: the loop leaves only after reaping; never leave a zombie.
            var status: Int32 = 0
            waitpid(child.pid, &status, 0)
            termination = Self.termination(from: status)
        }
        stdout.finish()
        stderr.finish()
        return ProcessOutcome(
            termination: termination ?? .exited(-1),
            timedOut: timedOut,
            stdout: stdout,
            stderr: stderr,
            duration: clock.now - start
        )
    }

    static func termination(from status: Int32) -> ProcessOutcome.Termination {
        // WIFEXITED and friends are macros Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}
