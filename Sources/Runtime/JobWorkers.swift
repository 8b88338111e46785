import Foundation
import Logging
import Pipeline
import Processes
import ServiceLifecycle
import Specs
import Store
import Synchronization

/// The worker lanes as one service. Each lane leases a job of its steps as soon as it has a free
/// slot and runs it beside the others; a finished job wakes every lane (it may have queued the
/// next step) and the reconciler (it may have moved the trunk).
///
/// On graceful shutdown no lane leases again; running jobs get `grace` to finish, then they are
/// cancelled — their agents stopped — and their leases handed back without counting an attempt.
struct JobWorkers: Service {
    let lanes: [WorkerLane]
    let runner: JobRunner
    let running: RunningJobs
    let queueChanged: WakeSignal
    let gitChanged: WakeSignal
    let leaseDuration: Duration
    /// The longest a lane sleeps without a wake-up: a safety net, for work queued by another process.
    let idlePoll: Duration
    let grace: Duration
    let logger: Logger

    private var store: Store { runner.store }
    private var worker: String { runner.worker }

    func run() async throws {
        let stop = StopFlag()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for lane in lanes { group.addTask { await drive(lane, stop: stop) } }
            }
        } onGracefulShutdown: {
            stop.set()
            queueChanged.signal()
        }
    }

    /// The loop of one lane: fill the free slots, then sleep until woken or the next job is due.
    private func drive(_ lane: WorkerLane, stop: StopFlag) async {
        let busy = RunningJobs()
        var errors = LoopBackoff()
        await withDiscardingTaskGroup { group in
            while !stop.isSet && !Task.isCancelled {
                let seen = queueChanged.generation
                var wait = idlePoll
                do {
                    while busy.count < lane.slots, !stop.isSet, let job = try await lease(lane, busy: busy) {
                        busy.add(job)
                        running.add(job)
                        group.addTask { await execute(job, lane: lane, busy: busy) }
                    }
                    if busy.count < lane.slots, let due = try await offload({ [store] in try store.nextDueDate(steps: lane.steps) }) {
                        // Due already but not leased: the deploy lane's job for an environment that is
                        // deploying now (its end wakes us), or a race with another worker; look again soon.
                        let delay = due.timeIntervalSinceNow
                        wait = min(wait, delay > 0 ? .milliseconds(Int64(delay * 1000) + 1) : .milliseconds(50))
                    }
                    errors.reset()
                } catch {
                    wait = errors.next()
                    logger.error("\(lane.name) lane: cannot lease: \(error); retrying in \(wait)", metadata: ["lane": "\(lane.name)"])
                }
                await queueChanged.wait(after: seen, timeout: wait)
            }
            await drain(lane, busy: busy, group: &group)
        }
    }

    private func lease(_ lane: WorkerLane, busy: RunningJobs) async throws -> Job? {
        let seconds = Double(leaseDuration.components.seconds)
        let excluded = lane.onePerTask ? busy.taskIDs : []
        return try await offload { [store, worker] in
            try store.lease(worker: worker, steps: lane.steps, excludingTasks: excluded, for: seconds)
        }
    }

    private func execute(_ job: Job, lane: WorkerLane, busy: RunningJobs) async {
        let metadata: Logger.Metadata = ["job": "\(job.id)", "step": "\(job.key.step.rawValue)", "task": "\(job.key.taskID)"]
        logger.info("\(job.key.step.rawValue) \(job.key.taskID) started (job \(job.id), lease \(job.attempts))", metadata: metadata)
        let firstEvent = job.key.step == .deploy ? try? await offload { [store] in try store.lastEventID() } : nil
        do {
            try await runner.run(job)
            logger.debug("\(job.key.step.rawValue) \(job.key.taskID) ended (job \(job.id))", metadata: metadata)
        } catch {
            logger.error("\(job.key.step.rawValue) \(job.key.taskID): \(error)", metadata: metadata)
        }
        if let firstEvent { await logDeployOutcomes(of: Reconciler.environment(ofDeploy: job.key), after: firstEvent, metadata: metadata) }
        running.remove(job)
        busy.remove(job)
        queueChanged.signal()
        gitChanged.signal()
    }

    /// Prints what a deploy job ended with — deployed, rolled back, failed, refused, retried,
    /// gave up — as `devsys serve` and `run` show it (the events say the same).
    private func logDeployOutcomes(of environment: String, after firstEvent: Int64, metadata: Logger.Metadata) async {
        let outcomes: Set<EventKind> = [.deploySucceeded, .rollback, .deployFailed, .deployRefused, .deployError, .deployGaveUp]
        guard let events = try? await offload({ [store] in try store.events(after: firstEvent) }) else { return }
        for event in events {
            // Another environment's deploy may run meanwhile: its lane prints its own.
            guard let kind = event.eventKind, outcomes.contains(kind), event.data["env"] == environment else { continue }
            let line = "\(kind.rawValue): \(event.message.firstLine)"
            switch kind {
            case .deploySucceeded, .rollback: logger.notice("\(line)", metadata: metadata)
            case .deployError, .deployRefused: logger.warning("\(line)", metadata: metadata)
            default: logger.error("\(line)", metadata: metadata)
            }
        }
    }

    /// Shutdown: the lane's running jobs get the grace period, then are cancelled (and hand their
    /// leases back).
    private func drain(_ lane: WorkerLane, busy: RunningJobs, group: inout DiscardingTaskGroup) async {
        guard busy.count > 0 else { return }
        logger.info("\(lane.name) lane: waiting up to \(grace) for \(busy.count) running job(s)", metadata: ["lane": "\(lane.name)"])
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while busy.count > 0, clock.now < deadline, !Task.isCancelled {
            let seen = queueChanged.generation
            guard busy.count > 0 else { break }
            await queueChanged.wait(after: seen, timeout: deadline - clock.now)
        }
        if busy.count > 0 {
            logger.notice("\(lane.name) lane: stopping \(busy.count) job(s) after the grace period; their leases go back uncounted")
            group.cancelAll()
        }
    }
}

/// How long a loop waits after an error: 1 s, doubling to 30 s, reset by a success.
struct LoopBackoff {
    private var failures = 0

    mutating func next() -> Duration {
        failures += 1
        return .seconds(min(30, 1 << min(failures - 1, 5)))
    }

    mutating func reset() { failures = 0 }
}
