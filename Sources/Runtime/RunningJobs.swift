import Pipeline
import Store
import Synchronization

/// Jobs running now: all of this controller's (for the lease heartbeat and for knowing when it is
/// idle), or one lane's (its free slots, and the tasks the deploy lane must not lease again).
final class RunningJobs: Sendable {
    private let jobs = Mutex<[Int64: Job]>([:])

    func add(_ job: Job) { jobs.withLock { $0[job.id] = job } }

    func remove(_ job: Job) { jobs.withLock { _ = $0.removeValue(forKey: job.id) } }

    var all: [Job] { jobs.withLock { Array($0.values) } }

    var isEmpty: Bool { jobs.withLock { $0.isEmpty } }

    var count: Int { jobs.withLock { $0.count } }

    var taskIDs: Set<String> { jobs.withLock { Set($0.values.map(\.key.taskID)) } }
}

/// A flag set once: "stop leasing".
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}
