import Actions
import Agents
import ControlRepository
import Deploy
import Environments
import Foundation
import Git
import Hosts
import Logging
import Pipeline
import Processes
import ServiceLifecycle
import Specs
import Store
import UnixSignals

/// The controller of one control repository. It owns the store, the one-controller lock and the
/// open host connections; `ControllerApp` builds the services that do the work from it — the
/// lease heartbeat, the reconcile service, the drift service, the worker lanes, and the extra
/// services given (a check scheduler, an outbox sender, an HTTP server).
///
/// `devsys serve` runs them until SIGTERM or SIGINT; `devsys run --until-idle` runs the same
/// services with an idle watch that ends the group once nothing is due.
public final class Controller: Sendable {
    public let repositoryPath: String
    public let state: StateDirectory
    public let store: Store
    /// This controller's name on job leases: host, pid and start time.
    public let worker: String
    let reconciler: Reconciler
    let runner: JobRunner
    /// Held for the controller's life: one controller per state directory.
    private let lock: ControllerLock
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
        self.lock = try ControllerLock.acquire(state)
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
    /// `extra`: more services (the HTTP server last), started after the lanes and stopped before them.
    public func serve(_ settings: Settings = Settings(), extra: [any Service] = [], logger: Logger = Logger(label: "devsys")) async throws {
        try await withTaskExecutorPreference(ControllerExecutor.shared) { try await serveServices(settings, extra: extra, logger: logger) }
    }

    private func serveServices(_ settings: Settings, extra: [any Service], logger: Logger) async throws {
        let app = ControllerApp(controller: self, settings: settings, mode: .serve, extra: extra, logger: logger)
        logger.info("serving \(repositoryPath) (state \(state.url.path)); lanes \(app.lanes.map(\.description).joined(separator: ", "))")
        try await app.run(signals: [.sigterm, .sigint])
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
        let outcome = IdleOutcome()
        let clock = ContinuousClock()
        let app = ControllerApp(
            controller: self,
            settings: settings,
            mode: .untilIdle(deadline: clock.now + .milliseconds(Int64(max(0, deadline.timeIntervalSinceNow) * 1000)), outcome: outcome),
            logger: logger
        )
        try await app.run(signals: signals)
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

    /// The control plane on this controller's store and host connections, for callers in the
    /// same process (the HTTP API, the monitor, the notifier).
    public var controlPlane: ControlPlane {
        get throws { try ControlPlane(repositoryPath: repositoryPath, state: state, store: store, connections: connections) }
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
