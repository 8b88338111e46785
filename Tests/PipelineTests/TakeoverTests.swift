import Actions
import Environments
import Foundation
import Processes
import Store
import TestSupport
import Testing

@testable import Pipeline
@testable import Runtime

/// A controller that takes a job over ends what its predecessor's sandbox left running before it
/// starts the step again (DESIGN §5): the predecessor's sandbox is found by the record kept with
/// the job's lease, not by the predecessor's cooperation.
@Suite(.timeLimit(.minutes(5))) struct TakeoverTests {
    static func running(_ marker: String) -> Int { runningProcesses(matching: marker).count }

    @Test func aTakeoverEndsThePredecessorsAgentBeforeCodingAgain() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("501-taken-over")
        try repo.commit("Add the spec")
        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        let store = controller.store
        try Reconciler(repositoryPath: repo.path, store: store).reconcile()

        // A predecessor leased the coding job and started its agent, then stopped renewing.
        let now = Date()
        let ghostJob = try #require(try store.lease(worker: "ghost", steps: [.coding], for: 1, now: now))
        let name = Sandbox.stepName("coding-job\(ghostJob.id)")
        try store.recordSandbox(name, jobID: ghostJob.id, worker: "ghost", now: now)
        let checkout = repo.state.workFolder.appendingPathComponent("ghost-checkout")
        try FileManager.default.createDirectory(at: checkout, withIntermediateDirectories: true)
        let orphan = Task {
            try await ProcessRunner().run(
                .init(
                    arguments: ["sh", "-c", "sleep 42001"],
                    workingDirectory: checkout,
                    sandbox: Sandbox(name: name, writable: [checkout.path], hidden: [], network: .none, limits: .init(processes: 64))
                )
            )
        }
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(30)
        while Self.running("sleep 42001") == 0 && clock.now < giveUp { try await Task.sleep(for: .milliseconds(20)) }
        try #require(Self.running("sleep 42001") > 0, "the predecessor's agent runs")

        // The lease expired; this controller takes the job over and runs it.
        let job = try #require(try store.lease(worker: controller.worker, steps: [.coding], for: 3600, now: now.addingTimeInterval(120)))
        #expect(job.id == ghostJob.id)
        try await controller.runner.run(job)

        let ended = try await orphan.value
        #expect(ended.termination != .exited(0), "the predecessor's agent was killed: \(ended.termination)")
        #expect(Self.running("sleep 42001") == 0)
        #expect(try store.sandboxes(ofJob: job.id).isEmpty, "the sandboxes of the job are forgotten once ended")
        #expect(try store.task(id: "501-taken-over")?.state == .testing, "the takeover coded the task")
    }
}
