import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The deploy lock: `<root>/<app>/.devsys/lock`, a folder made with `mkdir` (atomic on every
/// POSIX file system, and the only lock a plain exec channel can take and keep after the command
/// ends), holding an `owner` file with one JSON line: who, which controller process, since when.
///
/// A second deploy is refused with the owner in the message; it never waits. A lock whose owner is
/// a process of this machine that no longer exists (a controller that was killed) is broken: at
/// once when the owner recorded its `pidScope` and it is this process's (the pid is known to mean
/// the same process here), otherwise only when older than `staleLockAge`. The owner line is
/// compared again just before the folder is renamed away, so a lock taken meanwhile is left alone.
/// A lock left by a dead controller on another machine must be removed by a person (the error
/// says where).
extension HostDeployer {
    /// Who holds a lock, as written in `.devsys/lock/owner`.
    public struct LockOwner: Codable, Sendable, Hashable, CustomStringConvertible {
        public var actor: String
        /// The controller's machine (its host name) and process id.
        public var machine: String
        public var pid: Int32
        public var reason: String
        public var since: String
        /// Where `pid` names a process: the kernel boot and the pid namespace (Linux
        /// `/proc/sys/kernel/random/boot_id` and `/proc/self/ns/pid`); nil where unknown.
        public var pidScope: String? = nil

        public var description: String { "\(actor) (\(reason)), process \(pid) on \(machine) since \(since)" }
    }

    /// A lock this deployer holds; give it back to `unlock`.
    public struct DeployLock: Sendable, Hashable {
        public var owner: LockOwner
        /// The exact owner line on the host.
        var line: String
    }

    /// Takes the app's deploy lock on the host for `reason` ("deploy 0004 of 1a2b3c").
    /// Throws `DeployError.locked` naming the host and the owner when another deploy holds it.
    public func lock(reason: String) throws -> DeployLock {
        let owner = LockOwner(
            actor: actor,
            machine: Self.machineName,
            pid: getpid(),
            reason: reason,
            since: ISO8601DateFormatter().string(from: Date()),
            pidScope: Self.pidScope
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = String(decoding: try encoder.encode(owner), as: UTF8.self)
        let lockFolder = ShellWord.quote(lockPath)
        let attempt = """
            mkdir -p \(quotedApp)/revisions \(quotedApp)/.devsys || exit 3
            if mkdir \(lockFolder) 2>/dev/null; then
              printf '%s\\n' \(ShellWord.quote(line)) > \(lockFolder)/owner && echo acquired
            else
              echo busy
              printf 'age %s\\n' "$(( $(date +%s) - $(stat -c %Y \(lockFolder) 2>/dev/null || date +%s) ))"
              cat \(lockFolder)/owner 2>/dev/null
            fi
            """
        for round in 0..<2 {
            let output = try run(attempt, step: "taking the deploy lock").stdoutText
            var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.first == "acquired" { return DeployLock(owner: owner, line: line) }
            guard lines.first == "busy" else { throw DeployError.unexpectedOutput(host: host, step: "taking the deploy lock", output: output) }
            lines.removeFirst()
            let age = lines.first.flatMap { Int($0.replacingOccurrences(of: "age ", with: "")) } ?? 0
            let held = lines.dropFirst().first ?? ""
            let holder = try? JSONDecoder().decode(LockOwner.self, from: Data(held.utf8))
            if round == 0, let holder, isStale(holder, ageSeconds: age) {
                try run(
                    """
                    cd \(quotedApp)/.devsys || exit 3
                    [ "$(cat lock/owner 2>/dev/null)" = \(ShellWord.quote(held)) ] && mv lock lock.stale.$$ && rm -rf lock.stale.$$
                    exit 0
                    """,
                    step: "breaking a stale deploy lock"
                )
                try log(action: "lock-broken", detail: "stale lock of \(holder) (\(age) s old, process gone)")
                continue
            }
            throw DeployError.locked(
                host: host,
                app: app,
                lockPath: lockPath,
                owner: holder?.description ?? (held.isEmpty ? "owner not written yet" : held),
                ageSeconds: age
            )
        }
        throw DeployError.locked(host: host, app: app, lockPath: lockPath, owner: "unknown", ageSeconds: 0)
    }

    /// Gives the lock back. Throws `DeployError.lockNotHeld` when the lock on the host is not
    /// this one (it was broken and taken by someone else); nothing is removed then.
    public func unlock(_ lock: DeployLock) throws {
        let lockFolder = ShellWord.quote(lockPath)
        let result = try transport.run(
            """
            held=$(cat \(lockFolder)/owner 2>/dev/null)
            if [ "$held" = \(ShellWord.quote(lock.line)) ]; then rm -rf \(lockFolder) && exit 0; fi
            printf '%s' "$held"; exit 7
            """,
            timeout: commandTimeout
        )
        if result.status == 7 { throw DeployError.lockNotHeld(host: host, lockPath: lockPath, owner: result.stdoutText) }
        guard result.succeeded else {
            throw DeployError.commandFailed(host: host, step: "releasing the deploy lock", status: result.status, stderr: result.stderrText)
        }
    }

    /// Runs `body` holding the lock; releases it afterwards, also when `body` throws.
    public func withLock<T>(reason: String, _ body: () throws -> T) throws -> T {
        let lock = try lock(reason: reason)
        do {
            let value = try body()
            try unlock(lock)
            return value
        } catch {
            try? unlock(lock)
            throw error
        }
    }

    func isStale(_ owner: LockOwner, ageSeconds: Int) -> Bool {
        guard owner.machine == Self.machineName else { return false }
        // A killed deploy's lock must not block the next one for `staleLockAge`: when the owner's pid
        // is known to mean the same process here, its absence proves the owner dead.
        let samePIDScope = owner.pidScope != nil && owner.pidScope == Self.pidScope
        guard samePIDScope || Duration.seconds(ageSeconds) > staleLockAge else { return false }
        return kill(owner.pid, 0) != 0 && errno == ESRCH
    }

    /// This process's boot id and pid namespace, "<boot id>/pid:[<inode>]"; nil where unknown.
    static let pidScope: String? = {
        guard let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8),
            let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
        else { return nil }
        return boot.trimmingCharacters(in: .whitespacesAndNewlines) + "/" + namespace
    }()

    static var machineName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
