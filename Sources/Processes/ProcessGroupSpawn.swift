import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a child with `posix_spawn` as the leader of a process group of its own (so a timeout can
/// stop it with everything it started) and with the signal state a fresh program expects: none
/// blocked, and the ones the controller ignores or handles (SIGPIPE above all) back to their
/// defaults. Shared by the agents' `ProcessRunner` and the deploy agent's local transport.
public enum ProcessGroupSpawn {
    static let defaultedSignals = [SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU]

    /// Spawns `executable` with `arguments` (argv[0] included) and exactly `environment`; `actions`
    /// set up its descriptors and folder.
    /// - Returns: the child's pid.
    /// - Throws: `SpawnFailure` with posix_spawn's error number.
    public static func spawn(
        _ executable: String,
        arguments: [String],
        environment: [String: String],
        actions: inout posix_spawn_file_actions_t
    ) throws(SpawnFailure) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in defaultedSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let code = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envpBuffer in
                guard let argvBase = argvBuffer.baseAddress, let envpBase = envpBuffer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, executable, &actions, &attributes, argvBase, envpBase)
            }
        }
        guard code == 0 else { throw SpawnFailure(code: code) }
        return pid
    }
}

/// posix_spawn's error number, with its text.
public struct SpawnFailure: Error, CustomStringConvertible {
    public var code: Int32
    public var description: String { String(cString: strerror(code)) }
}
