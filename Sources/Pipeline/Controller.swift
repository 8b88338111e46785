import Agents
import ControlRepository
import Deploy
import Foundation
import Git
import Hosts
import Logging
import Processes
import ServiceLifecycle
import Specs
import Store
import UnixSignals

/// The controller of one control repository. It owns the store, the one-controller lock and the
/// open host connections, and builds the services that do the work (DESIGN §1, Runtime):
///
/// 1. the lease heartbeat, which keeps running jobs' short leases alive;
/// 2. the reconcile service, woken by `devsys notify` (and polling as a fallback), which turns git
///    into tasks and jobs and never waits for a job;
/// 3. the drift service (`serve` only), which compares hosts with their env refs;
/// 4. the worker lanes — coding, testing, merge, deploy — each leasing as soon as a slot frees.
///
/// `devsys serve` runs them until SIGTERM or SIGINT; `devsys run --until-idle` runs the same
/// services with an idle watch that ends the group once nothing is due. A check scheduler, an
/// outbox sender and an HTTP server are one more service each.
public final class Controller: Sendable {
    public let repositoryPath: String
    public let state: StateDirectory
    public let store: Store
    /// This controller's name on job leases: host, pid and start time.
    public let worker: String
    let reconciler: Reconciler
    let runner: JobRunner
    /// Open transports to the hosts, shared by every deploy and drift check.
    public let connections: HostConnections
    /// How long a lease lasts unrenewed: a controller that dies is taken over this long after.
    public static let leaseDuration: Duration = .seconds(60)

    /// Opens the store in `state` and takes the controller lock (one controller per state
    /// directory), then reclaims the jobs a killed predecessor left leased — a takeover, which
    /// counts against the job's own lease limit but never against the task's attempts.
    /// - Throws: `ControllerError.alreadyRunning` when another controller holds the lock.
    public init(repositoryPath: String, state: StateDirectory) throws {
        try state.create()
        self.repositoryPath = repositoryPath
        self.state = state
        self.store = try Store(path: state.storeFile)
        self.worker = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(Int(Date().timeIntervalSince1970))"
        self.reconciler = Reconciler(repositoryPath: repositoryPath, store: store)
        self.connections = HostConnections(repository: try Repository.open(at: repositoryPath))
        self.runner = JobRunner(repositoryPath: repositoryPath, store: store, state: state, worker: worker, connections: connections)
        try ControllerLock.acquire(state.controllerLock)
        let reclaimed = try store.releaseLeases(notOwnedBy: worker)
        if reclaimed > 0 {
            try store.appendEvent(
                taskID: nil,
                kind: .controllerReclaimed,
                message: "took over \(reclaimed) job(s) left running by a stopped controller"
            )
        }
    }

    /// How `serve` and `run --until-idle` pace themselves.
    public struct Settings: Sendable {
        /// The longest the reconciler sleeps without a notification.
        public var poll: Duration = .seconds(5)
        /// Between drift checks (`serve`).
        public var driftInterval: Duration = .seconds(60)
        /// How long running jobs may still finish after SIGTERM before they are stopped.
        public var grace: Duration = .seconds(30)
        /// Nil: from `agents` in devsys.yaml on the trunk.
        public var lanes: [WorkerLane]? = nil

        public init() {}
    }

    /// Runs the services until SIGTERM or SIGINT (or until the task is cancelled), then stops them
    /// gracefully: no new leases, running jobs get `settings.grace`, then their agents are stopped
    /// and their leases handed back uncounted.
    public func serve(_ settings: Settings = Settings(), logger: Logger = Logger(label: "devsys")) async throws {
        try await withTaskExecutorPreference(ControllerExecutor.shared) { try await serveServices(settings, logger: logger) }
    }

    private func serveServices(_ settings: Settings, logger: Logger) async throws {
        let wiring = Wiring(controller: self, settings: settings, checkDrift: true, logger: logger)
        logger.info("serving \(repositoryPath) (state \(state.url.path)); lanes \(wiring.lanes.map(\.description).joined(separator: ", "))")
        try await ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: wiring.services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        ).run()
    }

    /// Runs the services until nothing is due — no job running, pending or leased, waiting out
    /// retry backoffs — or until `deadline`; hosts are first checked for drift, so a run also brings
    /// them back in line. `signals` (SIGTERM, SIGINT for the CLI) stop it gracefully.
    /// - Returns: what happened during the run, from the events it appended.
    @discardableResult
    public func runUntilIdle(
        deadline: Date,
        settings: Settings = Settings(),
        signals: [UnixSignal] = [],
        logger: Logger = Logger(label: "devsys")
    ) async throws -> RunReport {
        try await withTaskExecutorPreference(ControllerExecutor.shared) {
            try await runServicesUntilIdle(deadline: deadline, settings: settings, signals: signals, logger: logger)
        }
    }

    private func runServicesUntilIdle(deadline: Date, settings: Settings, signals: [UnixSignal], logger: Logger) async throws -> RunReport {
        let firstEvent = try await offload { [store] in try store.lastEventID() }
        await checkDrift(logger: logger)
        let wiring = Wiring(controller: self, settings: settings, checkDrift: false, logger: logger)
        let outcome = IdleOutcome()
        let clock = ContinuousClock()
        let watch = IdleWatch(
            passes: wiring.passes,
            store: store,
            running: wiring.running,
            queueChanged: wiring.queueChanged,
            deadline: clock.now + .milliseconds(Int64(max(0, deadline.timeIntervalSinceNow) * 1000)),
            outcome: outcome,
            logger: logger
        )
        try await ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: wiring.services + [.init(service: watch, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: signals,
                logger: logger
            )
        ).run()
        let events = try await offload { [store] in try store.events(after: firstEvent) }
        return RunReport(idle: outcome.reachedIdle.isSet, timedOut: outcome.timedOut.isSet, events: events)
    }

    /// The lanes for the trunk's devsys.yaml (`agents.coding.parallel`, `agents.testing.parallel`);
    /// the defaults when it cannot be read.
    public func lanes() -> [WorkerLane] {
        let control = try? ControlRepository(Repository.open(at: repositoryPath))
        let config = (try? control.flatMap { control in try control.config(at: control.trunkCommit().commit) }) ?? nil
        return WorkerLane.lanes(for: config?.agents ?? ProjectConfig.Agents())
    }

    /// Leases every job due now and runs them side by side, once; returns whether any ran. For
    /// tests and tools that step the pipeline one round at a time — the services do this
    /// continuously, lane by lane. With no heartbeat here, the leases are long (an hour).
    public func runDueJobs() async throws -> Bool {
        try await withTaskExecutorPreference(ControllerExecutor.shared) {
            var jobs: [Job] = []
            while let job = try await offload({ [store, worker] in try store.lease(worker: worker, for: 3600) }) { jobs.append(job) }
            let runner = self.runner
            try await withThrowingTaskGroup(of: Void.self) { group in
                for job in jobs { group.addTask { try await runner.run(job) } }
                try await group.waitForAll()
            }
            return !jobs.isEmpty
        }
    }

    /// Compares every host's live revision with its env ref and queues a deploy where they differ.
    public func checkDrift(logger: Logger = Logger(label: "devsys")) async {
        let agent = DeploymentAgent(repositoryPath: repositoryPath, store: store, connections: connections)
        do {
            let drift = try await offload { try agent.healDrift() }
            for item in drift {
                let what =
                    item.error.map { "unreachable: \($0)" }
                    ?? "serves \(item.serves?.prefix(12) ?? "nothing"), expected \(item.expected.prefix(12))"
                logger.warning(
                    "drift: \(item.environment)/\(item.host) \(what)",
                    metadata: ["env": "\(item.environment)", "host": "\(item.host)"]
                )
            }
        } catch {
            logger.error("drift check failed: \(error)")
        }
    }
}

/// The services of one run, wired to each other through their wake-up signals, in start order
/// (the group stops them in reverse: lanes first, the heartbeat last, so running jobs keep their
/// leases through the grace period).
struct Wiring {
    let lanes: [WorkerLane]
    let running: RunningJobs
    let queueChanged: WakeSignal
    let gitChanged: WakeSignal
    let passes: ReconcilePasses
    let services: [ServiceGroupConfiguration.ServiceConfiguration]

    /// - Parameter checkDrift: add the drift service (`serve`; `run --until-idle` checks once before).
    init(controller: Controller, settings: Controller.Settings, checkDrift: Bool, logger: Logger) {
        let lanes = settings.lanes ?? controller.lanes()
        let (running, queueChanged, gitChanged) = (RunningJobs(), WakeSignal(), WakeSignal())
        let passes = ReconcilePasses(reconciler: controller.reconciler)
        let heartbeat = LeaseHeartbeat(
            store: controller.store,
            worker: controller.worker,
            running: running,
            leaseDuration: Controller.leaseDuration,
            logger: logger
        )
        let reconcile = ReconcileService(
            passes: passes,
            notifySocket: controller.state.notifySocket,
            gitChanged: gitChanged,
            queueChanged: queueChanged,
            poll: settings.poll,
            logger: logger
        )
        let drift = DriftService(check: { await controller.checkDrift(logger: logger) }, gitChanged: gitChanged, interval: settings.driftInterval)
        let workers = JobWorkers(
            lanes: lanes,
            runner: controller.runner,
            running: running,
            queueChanged: queueChanged,
            gitChanged: gitChanged,
            leaseDuration: Controller.leaseDuration,
            idlePoll: settings.poll,
            grace: settings.grace,
            logger: logger
        )
        let all: [any Service] = [heartbeat, reconcile] + (checkDrift ? [drift] : []) + [workers]
        self.lanes = lanes
        self.running = running
        self.queueChanged = queueChanged
        self.gitChanged = gitChanged
        self.passes = passes
        self.services = all.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
    }
}

/// One controller per state directory: an exclusive `flock` held for the process's life.
enum ControllerLock {
    static func acquire(_ url: URL) throws {
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ControllerError.lock(url.path, String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ControllerError.alreadyRunning(url.deletingLastPathComponent().path)
        }
        // Kept open on purpose: the lock goes when the process does, however it ends.
    }
}

public enum ControllerError: Error, CustomStringConvertible {
    case alreadyRunning(String)
    case lock(String, String)

    public var description: String {
        switch self {
        case .alreadyRunning(let path):
            "another devsys controller is running on \(path); stop it first, or let it do the work (devsys notify wakes it)"
        case .lock(let path, let reason):
            "cannot create the controller lock \(path): \(reason)"
        }
    }
}
