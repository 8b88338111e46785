import Foundation
import Pipeline

/// The threads the controller's services run on: a task executor of their own, preferred by every
/// task of `serve` and `run --until-idle`, so that the controller never waits for Swift's global
/// cooperative pool (one thread per core). Whatever else holds that pool — a host program's or a
/// test suite's blocking work — the lanes, the heartbeat and the reconciler keep moving.
///
/// These threads only run the services' async code between awaits; blocking C calls go to the
/// blocking pool (`Processes.BlockingPool`).
///
/// `@unchecked Sendable`: its queue is guarded by the `NSCondition` its threads sleep on, which a
/// `Mutex` cannot offer (a thread pool waits for work on a condition variable).
final class ControllerExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    /// Starts `threads` threads that live as long as the process.
    init(threads: Int) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "devsys controller \(index + 1)"
            thread.start()
        }
    }

    /// The process's controller executor.
    static let shared = ControllerExecutor(threads: 4)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
