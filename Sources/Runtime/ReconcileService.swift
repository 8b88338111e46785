import Foundation
import Logging
import Pipeline
import Processes
import ServiceLifecycle
import Store
import Synchronization

/// One reconcile pass at a time, whoever asks (the reconcile service, the idle check of
/// `run --until-idle`): git into the store, then the tasks of dead jobs failed.
final class ReconcilePasses: Sendable {
    let reconciler: Reconciler
    private let lock = Mutex(())

    init(reconciler: Reconciler) { self.reconciler = reconciler }

    /// Runs a pass on the blocking pool.
    func pass() async throws -> ReconcileSummary {
        try await offload { [self] in
            try lock.withLock { _ in
                var summary = try reconciler.reconcile()
                summary.failed = try DeadJobs(store: reconciler.store).failTasksOfDeadJobs()
                return summary
            }
        }
    }
}

/// Reconciles whenever git may have moved — a `devsys notify` from the post-receive hook, a job
/// that finished, a drift check — and otherwise every `poll`. It never waits for a job: the lanes
/// run them. An error is logged and the pass retried with backoff; the service keeps running.
struct ReconcileService: Service {
    let passes: ReconcilePasses
    let notifySocket: URL?
    let gitChanged: WakeSignal
    let queueChanged: WakeSignal
    let poll: Duration
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        let listener = notifySocket.flatMap { NotifyListenerThread.start(at: $0, wake: gitChanged, stop: stop, logger: logger) }
        if notifySocket != nil && listener == nil { logger.warning("notifications unavailable; polling every \(poll)") }
        var errors = LoopBackoff()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                let seen = gitChanged.generation
                var wait = poll
                do {
                    let summary = try await passes.pass()
                    if summary.changedAnything { queueChanged.signal() }
                    summary.log(to: logger)
                    errors.reset()
                } catch {
                    wait = errors.next()
                    logger.error("reconcile failed: \(error); retrying in \(wait)")
                }
                await gitChanged.wait(after: seen, timeout: wait)
            }
        } onGracefulShutdown: {
            stop.set()
            gitChanged.signal()
        }
    }
}

/// The notify socket's wait, on one long-lived thread of its own (a blocking `poll(2)`), turned
/// into wake-ups of the reconcile service.
enum NotifyListenerThread {
    static func start(at url: URL, wake: WakeSignal, stop: StopFlag, logger: Logger) -> Thread? {
        guard let listener = try? NotifySocket.Listener(url: url) else { return nil }
        let thread = Thread {
            while !stop.isSet {
                if listener.wait(timeout: 0.5) { wake.signal() }
            }
        }
        thread.name = "devsys notify"
        thread.start()
        return thread
    }
}

/// Every `interval`, compares what each host serves with its env ref; a drifted host's
/// environment is redeployed (the reconciler queues it).
struct DriftService: Service {
    let check: @Sendable () async -> Void
    let gitChanged: WakeSignal
    let interval: Duration

    func run() async throws {
        let stop = StopFlag()
        let tick = WakeSignal()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                let seen = tick.generation
                await check()
                gitChanged.signal()
                await tick.wait(after: seen, timeout: interval)
            }
        } onGracefulShutdown: {
            stop.set()
            tick.signal()
        }
    }
}

extension ReconcileSummary {
    func log(to logger: Logger) {
        for id in started { logger.info("task \(id): started", metadata: ["task": "\(id)"]) }
        for id in updated { logger.info("task \(id): spec updated", metadata: ["task": "\(id)"]) }
        for id in cancelled { logger.info("task \(id): cancelled (spec deleted)", metadata: ["task": "\(id)"]) }
        for id in invalid { logger.warning("task \(id): spec invalid", metadata: ["task": "\(id)"]) }
        for id in merged { logger.info("task \(id): merged with git", metadata: ["task": "\(id)"]) }
        for id in failed { logger.warning("task \(id): failed, its job gave up", metadata: ["task": "\(id)"]) }
        for env in promoted { logger.info("env/\(env): promoted to the trunk (auto_deploy)", metadata: ["env": "\(env)"]) }
        for env in deploys { logger.info("env/\(env): deploy queued", metadata: ["env": "\(env)"]) }
    }
}
