import Logging
import Pipeline
import Processes
import ServiceLifecycle
import Store

/// Keeps the leases of running jobs alive. Leases are short (``Controller/leaseDuration``), so a
/// controller that dies is taken over within a minute; this service renews every running job's
/// lease a few times per lease while it runs — a coding agent may work for half an hour.
///
/// It is the first service of the group, so it is the last to stop: the worker lanes' grace
/// period still has live leases.
struct LeaseHeartbeat: Service {
    let store: Store
    let worker: String
    let running: RunningJobs
    let leaseDuration: Duration
    let logger: Logger

    func run() async throws {
        let interval = leaseDuration / 3
        let stop = StopFlag()
        let tick = WakeSignal()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                let seen = tick.generation
                await renewAll()
                await tick.wait(after: seen, timeout: interval)
            }
        } onGracefulShutdown: {
            stop.set()
            tick.signal()
        }
    }

    private func renewAll() async {
        let seconds = Double(leaseDuration.components.seconds)
        for job in running.all {
            do {
                try await offload { [store, worker] in _ = try store.renew(jobID: job.id, worker: worker, for: seconds) }
            } catch StoreError.leaseLost(_, _, let holder, let state) {
                // Done or handed back meanwhile, or taken over after a stall longer than a lease.
                if state == .leased {
                    logger.warning("lease of job \(job.id) lost to \(holder ?? "nobody")", metadata: ["job": "\(job.id)"])
                }
            } catch {
                logger.error("cannot renew the lease of job \(job.id): \(error)", metadata: ["job": "\(job.id)"])
            }
        }
    }
}
