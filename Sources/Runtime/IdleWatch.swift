import Foundation
import Logging
import Pipeline
import Processes
import ServiceLifecycle
import Store

/// What ends `devsys run --until-idle`: returns (and so shuts the group down gracefully) once no
/// job runs, none is pending or leased — backoffs are waited out — and a reconcile pass of its own
/// finds nothing new; or once `deadline` passes, with `timedOut` set.
struct IdleWatch: Service {
    let passes: ReconcilePasses
    let store: Store
    let running: RunningJobs
    let queueChanged: WakeSignal
    let deadline: ContinuousClock.Instant
    let outcome: IdleOutcome
    let logger: Logger

    func run() async throws {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let seen = queueChanged.generation
            if clock.now >= deadline {
                outcome.timedOut.set()
                return
            }
            do {
                if try await isIdle() {
                    let summary = try await passes.pass()
                    summary.log(to: logger)
                    if summary.changedAnything {
                        queueChanged.signal()
                    } else if try await isIdle() {
                        outcome.reachedIdle.set()
                        return
                    }
                }
            } catch {
                logger.error("idle check failed: \(error)")
            }
            await queueChanged.wait(after: seen, timeout: min(.milliseconds(250), deadline - clock.now))
        }
    }

    private func isIdle() async throws -> Bool {
        guard running.isEmpty else { return false }
        return try await offload { [store] in try store.nextDueDate() == nil }
    }
}

/// How `run --until-idle` ended: idle, out of time, or neither (stopped by a signal).
public final class IdleOutcome: Sendable {
    public init() {}

    let reachedIdle = StopFlag()
    let timedOut = StopFlag()
}
