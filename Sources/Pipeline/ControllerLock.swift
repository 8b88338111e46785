import Foundation
import Specs

#if canImport(Glibc)
import Glibc
#endif

/// One controller per state directory: an exclusive `flock` on `<state>/controller.lock`, held by
/// the process that runs jobs — `devsys serve`, `devsys run`, or a command that runs one job itself
/// (a deploy with no controller running, `reindex`). The kernel drops it when the process ends,
/// however it ends.
public final class ControllerLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Takes the lock of `state`; nil when another process holds it.
    /// - Throws: `ControllerError.lock` when the lock file cannot be opened.
    public static func take(_ state: StateDirectory) throws -> ControllerLock? {
        let url = state.controllerLock
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ControllerError.lock(url.path, String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return ControllerLock(descriptor: descriptor)
    }

    /// Takes the lock of `state`, or throws `ControllerError.alreadyRunning`.
    public static func acquire(_ state: StateDirectory) throws -> ControllerLock {
        guard let lock = try take(state) else { throw ControllerError.alreadyRunning(state.url.path) }
        return lock
    }

    deinit {
        close(descriptor)
    }
}

public enum ControllerError: DomainError {
    case alreadyRunning(String)
    case lock(String, String)

    public var code: String {
        switch self {
        case .alreadyRunning: "controller_running"
        case .lock: "controller_lock_failed"
        }
    }

    public var category: ErrorCategory {
        switch self {
        case .alreadyRunning: .conflict
        case .lock: .failed
        }
    }

    public var description: String {
        switch self {
        case .alreadyRunning(let path):
            "another devsys controller is running on \(path); stop it first, or let it do the work"
        case .lock(let path, let reason):
            "cannot create the controller lock \(path): \(reason)"
        }
    }
}
