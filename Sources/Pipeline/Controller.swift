import Agents
import Deploy
import Foundation
import Git
import Store

/// The controller of one control repository: reconciles git into the store and runs the queued
/// jobs — coding one at a time, testing in a pool of `agents.testing.parallel`, merges inline.
/// `devsys serve` runs `serve`, `devsys run --until-idle` runs `runUntilIdle`.
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
    /// How long a lease lasts before another controller may take the job over.
    static let leaseDuration: TimeInterval = 3600
    let testingParallel: Int

    /// Opens the store in `state` and takes the controller lock (one controller per state
    /// directory), then reclaims the jobs a killed predecessor left leased.
    /// - Throws: `ControllerError.alreadyRunning` when another controller holds the lock.
    public init(repositoryPath: String, state: StateDirectory, testingParallel: Int = 2) throws {
        try state.create()
        self.repositoryPath = repositoryPath
        self.state = state
        self.store = try Store(path: state.storeFile)
        self.worker = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(Int(Date().timeIntervalSince1970))"
        self.reconciler = Reconciler(repositoryPath: repositoryPath, store: store)
        self.connections = HostConnections(repository: try Repository.open(at: repositoryPath))
        self.runner = JobRunner(repositoryPath: repositoryPath, store: store, state: state, worker: worker, connections: connections)
        self.testingParallel = max(1, testingParallel)
        try ControllerLock.acquire(state.controllerLock)
        let reclaimed = try store.releaseLeases(notOwnedBy: worker)
        if reclaimed > 0 {
            try store.appendEvent(
                taskID: nil,
                kind: "controller.reclaimed",
                message: "took over \(reclaimed) job(s) left running by a stopped controller"
            )
        }
    }

    /// Reconciles, then runs every job that is due, until none is pending or `deadline` passes.
    /// Jobs waiting for a backoff are waited for. Returns whether everything finished.
    /// Hosts are first checked for drift, so a run also brings them back in line.
    public func runUntilIdle(deadline: Date, progress: @Sendable (String) -> Void = { _ in }) async throws -> Bool {
        await checkDrift(progress: progress)
        while Date() < deadline {
            let summary = try reconciler.reconcile()
            report(summary, to: progress)
            let ran = try await runDueJobs(progress: progress)
            if ran { continue }
            guard let due = try store.nextDueDate() else {
                // Nothing pending; one more reconcile catches merges the last jobs made.
                if try !reconciler.reconcile().changedAnything { return true }
                continue
            }
            let wait = min(due.timeIntervalSinceNow, deadline.timeIntervalSinceNow)
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1)) }
        }
        return false
    }

    /// Reconciles and runs jobs until cancelled, waking at once on a notification (post-receive
    /// hook) and otherwise every `pollInterval`.
    /// Every `driftInterval` the hosts' live revisions are compared with the env refs.
    public func serve(
        pollInterval: TimeInterval,
        driftInterval: TimeInterval = 60,
        progress: @Sendable @escaping (String) -> Void = { _ in }
    ) async throws {
        let listener = try? NotifySocket.Listener(url: state.notifySocket)
        if listener == nil { progress("notifications unavailable; polling every \(pollInterval) s") }
        var nextDriftCheck = Date()
        while !Task.isCancelled {
            if Date() >= nextDriftCheck {
                nextDriftCheck = Date().addingTimeInterval(driftInterval)
                await checkDrift(progress: progress)
            }
            report(try reconciler.reconcile(), to: progress)
            if try await runDueJobs(progress: progress) { continue }
            var wait = pollInterval
            if let due = try store.nextDueDate() { wait = max(0, min(wait, due.timeIntervalSinceNow)) }
            if let listener {
                // The blocking wait runs on a thread of its own, not a cooperative one; cancelling
                // (SIGTERM) sends a wake-up of our own so it ends at once.
                let socket = state.notifySocket
                let timeout = wait
                _ = await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                        Thread.detachNewThread { continuation.resume(returning: listener.wait(timeout: timeout)) }
                    }
                } onCancel: {
                    NotifySocket.send(to: socket)
                }
            } else {
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
            }
        }
    }

    /// Leases what is due — one coding job, up to `testingParallel` testing jobs, merges — and
    /// runs them together. Returns whether any ran.
    func runDueJobs(progress: @Sendable (String) -> Void) async throws -> Bool {
        var jobs: [Job] = []
        if let coding = try store.lease(worker: worker, steps: [.coding], for: Self.leaseDuration) { jobs.append(coding) }
        while jobs.filter({ $0.key.step == .testing }).count < testingParallel,
            let testing = try store.lease(worker: worker, steps: [.testing], for: Self.leaseDuration)
        {
            jobs.append(testing)
        }
        while let other = try store.lease(worker: worker, steps: [.merge, .deploy, .monitor], for: Self.leaseDuration) {
            jobs.append(other)
        }
        guard !jobs.isEmpty else { return false }
        for job in jobs { progress("\(job.key.step.rawValue) \(job.key.taskID) (job \(job.id), lease \(job.attempts))") }
        let runner = self.runner
        try await withThrowingTaskGroup(of: Void.self) { group in
            for job in jobs { group.addTask { try await runner.run(job) } }
            try await group.waitForAll()
        }
        return true
    }

    /// Compares every host's live revision with its env ref and queues a deploy where they differ.
    public func checkDrift(progress: @Sendable (String) -> Void) async {
        let agent = DeploymentAgent(repositoryPath: repositoryPath, store: store, connections: connections)
        do {
            let drift = try await JobRunner.onThread { try agent.healDrift() }
            for item in drift {
                progress(
                    "drift: \(item.environment)/\(item.host) "
                        + (item.error.map { "unreachable: \($0)" }
                            ?? "serves \(item.serves?.prefix(12) ?? "nothing"), expected \(item.expected.prefix(12))")
                )
            }
        } catch {
            progress("drift check failed: \(error)")
        }
    }

    private func report(_ summary: ReconcileSummary, to progress: (String) -> Void) {
        for id in summary.started { progress("task \(id): started") }
        for id in summary.updated { progress("task \(id): spec updated") }
        for id in summary.cancelled { progress("task \(id): cancelled (spec deleted)") }
        for id in summary.invalid { progress("task \(id): spec invalid") }
        for id in summary.merged { progress("task \(id): merged with git") }
        for env in summary.promoted { progress("env/\(env): promoted to the trunk (auto_deploy)") }
        for env in summary.deploys { progress("env/\(env): deploy queued") }
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
