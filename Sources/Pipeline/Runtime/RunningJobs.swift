import Store
import Synchronization

/// The jobs this controller is running now, for the lease heartbeat and for knowing when the
/// controller is idle.
final class RunningJobs: Sendable {
    private let jobs = Mutex<[Int64: Job]>([:])

    func add(_ job: Job) { jobs.withLock { $0[job.id] = job } }

    func remove(_ job: Job) { jobs.withLock { _ = $0.removeValue(forKey: job.id) } }

    var all: [Job] { jobs.withLock { Array($0.values) } }

    var isEmpty: Bool { jobs.withLock { $0.isEmpty } }
}

/// A flag set once: "stop leasing".
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}
