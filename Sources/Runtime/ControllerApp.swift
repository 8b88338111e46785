import Foundation
import Logging
import Pipeline
import ServiceLifecycle
import UnixSignals

/// The app factory: the services of one controller run, wired to each other through their
/// wake-up signals, in start order — what `devsys serve`, `devsys run --until-idle` and the tests
/// all run, so the tests exercise the real wiring:
///
/// 1. the lease heartbeat, which keeps running jobs' short leases alive;
/// 2. the reconcile service, woken by `devsys notify` (polling as a fallback);
/// 3. the drift service (`serve` only; `run` checks once before);
/// 4. the worker lanes — coding, testing, merge, deploy;
/// 5. the extra services, in the order given: the check scheduler and the notification outbox,
///    then the HTTP server last;
/// 6. the idle watch (`run --until-idle`), which ends the group once nothing is due.
///
/// The group stops them in reverse: the HTTP server first (no new requests), the lanes before
/// the heartbeat, so running jobs keep their leases through the grace period.
public struct ControllerApp {
    /// What the run is for.
    public enum Mode {
        /// Until SIGTERM or SIGINT.
        case serve
        /// Until nothing is due, or `deadline`; `outcome` says which.
        case untilIdle(deadline: ContinuousClock.Instant, outcome: IdleOutcome)
    }

    public let lanes: [WorkerLane]
    let services: [ServiceGroupConfiguration.ServiceConfiguration]
    let logger: Logger

    /// Builds the services of `controller` for `mode`, with `extra` services after the lanes.
    public init(controller: Controller, settings: Controller.Settings, mode: Mode, extra: [any Service] = [], logger: Logger) {
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
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: heartbeat), .init(service: reconcile)]
        switch mode {
        case .serve:
            let drift = DriftService(
                check: { await controller.checkDrift(logger: logger) },
                gitChanged: gitChanged,
                interval: settings.driftInterval
            )
            services.append(.init(service: drift))
            services.append(.init(service: workers))
            services += extra.map { .init(service: $0) }
        case .untilIdle(let deadline, let outcome):
            services.append(.init(service: workers))
            services += extra.map { .init(service: $0) }
            let watch = IdleWatch(
                passes: passes,
                store: controller.store,
                running: running,
                queueChanged: queueChanged,
                deadline: deadline,
                outcome: outcome,
                logger: logger
            )
            services.append(.init(service: watch, successTerminationBehavior: .gracefullyShutdownGroup))
        }
        self.lanes = lanes
        self.services = services
        self.logger = logger
    }

    /// Runs the services until the group ends; `signals` stop it gracefully.
    public func run(signals: [UnixSignal]) async throws {
        try await ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        ).run()
    }
}
