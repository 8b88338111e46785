import Foundation
import Processes

/// What a sandbox costs a step: `true` run by the agents' `ProcessRunner` plainly and in the
/// sandbox every agent step gets (bubblewrap namespaces, the step's cgroup with memory, pids and
/// cpu limits, hidden folders, a writable checkout, `nobody` through setpriv when root), and — as
/// the floor on this machine — a bare `bwrap --unshare-all --ro-bind / / true` typed by hand.
struct SandboxBenchmark: Benchmark {
    let name = "sandbox"
    var steps = 20

    var quick: Self { Self(steps: 3) }

    func run(runs: Int, scratch: URL) throws -> [Comparison] {
        try SandboxHost.current.requireAvailable()
        let checkout = scratch.appendingPathComponent("checkout")
        let hidden = scratch.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: checkout, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: hidden, withIntermediateDirectories: true)
        let runner = ProcessRunner()
        let plain = ProcessRunner.Invocation(arguments: ["true"], workingDirectory: checkout)
        var sandboxed = plain
        sandboxed.sandbox = Sandbox(
            name: "bench-\(getpid())",
            writable: [checkout.path],
            hidden: [hidden.path, NSHomeDirectory()],
            network: .none,
            limits: .init(memoryBytes: 512 << 20, cpus: 1, processes: 256, fileBytes: 50 << 20)
        )
        let bwrap = ProcessRunner.Invocation(
            arguments: [SandboxHost.current.bubblewrap ?? "bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
            workingDirectory: checkout
        )
        func perStep(_ invocation: ProcessRunner.Invocation) throws -> Double {
            try medianSeconds(runs: runs) {
                for _ in 0..<steps {
                    let outcome = try waitFor { try await runner.run(invocation) }
                    guard outcome.succeeded else { throw BenchmarkError("\(invocation.arguments) failed: \(outcome.stderr.text)") }
                }
            } / Double(steps)
        }
        let plainStep = try perStep(plain)
        let sandboxStep = try perStep(sandboxed)
        let bwrapStep = try perStep(bwrap)
        let added = sandboxStep - plainStep
        let milliseconds = { (value: Double) in String(format: "%.1f", value * 1000) }
        return [
            Comparison(
                name: "an agent step in its sandbox vs a plain spawn (\(steps) steps; added \(milliseconds(added)) ms per step; "
                    + "a bare bwrap adds \(milliseconds(bwrapStep - plainStep)) ms here)",
                unit: "step",
                operations: 1,
                devsys: sandboxStep,
                alternative: "bwrap --unshare-all --ro-bind / / true",
                alternativeSeconds: bwrapStep,
                goal: "≤ 15 ms added per step",
                met: added <= 0.015
            )
        ]
    }

    /// Runs async work to its end from this synchronous harness.
    private func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
