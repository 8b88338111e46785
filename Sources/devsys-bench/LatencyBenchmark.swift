import Foundation
import TestSupport

/// Commit-to-work latency: from `git push` returning to the coding job starting, with a running
/// `devsys serve`. With the post-receive hook it is woken at once; polling only (the hook
/// removed), it finds the push on its next poll — how Argo CD (every 3 min) and Flux (every
/// 1 min) work by default; here the poll is 1 s so the run stays short.
///
/// The start is when the controller moved the task to `coding`, as its store records it (see
/// `ControllerHistory`); the agent's own first line runs after its checkout and sandbox are made.
struct LatencyBenchmark: Benchmark {
    let name = "latency"
    var pushes = 15
    var pollingPushes = 6

    var quick: Self { Self(pushes: 3, pollingPushes: 2) }

    func run(runs: Int, scratch: URL) throws -> [Comparison] {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let devsys = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("devsys").path
        guard FileManager.default.isExecutableFile(atPath: devsys) else {
            throw BenchmarkError("\(devsys) is missing: build it too (swift build -c release)")
        }
        let hook = try measure(devsys: devsys, scratch: scratch.appendingPathComponent("hook"), pushes: pushes, keepHook: true, poll: 600)
        let polling = try measure(devsys: devsys, scratch: scratch.appendingPathComponent("poll"), pushes: pollingPushes, keepHook: false, poll: 1)
        let fromReturn = hook.map(\.fromReturn).sorted()
        let fromStart = hook.map(\.fromStart).sorted()
        let early = fromReturn.filter { $0 <= 0 }.count
        let median = { (values: [Double]) in values[values.count / 2] }
        let p99 = { (values: [Double]) in values[min(values.count - 1, Int(Double(values.count) * 0.99))] }
        let milliseconds = { (value: Double) in String(format: "%.1f", value * 1000) }
        return [
            Comparison(
                name: "git push → coding job started (\(pushes) pushes): from push start, the figure; from push return: "
                    + "median \(milliseconds(max(0, median(fromReturn)))) ms, p99 \(milliseconds(max(0, p99(fromReturn)))) ms, "
                    + "\(early) of \(pushes) started before the push returned; p99 from start \(milliseconds(p99(fromStart))) ms",
                unit: "push",
                operations: 1,
                devsys: median(fromStart),
                alternative: "polling every 1 s, no hook (Argo CD default: 3 min, Flux: 1 min)",
                alternativeSeconds: median(polling.map(\.fromStart).sorted()),
                goal: "median ≤ 20 ms with the hook",
                met: max(0, median(fromReturn)) <= 0.020
            )
        ]
    }

    /// Seconds from a push's start and from its return to its coding job starting. With the hook,
    /// the job often starts before `git push` returns: git waits for post-receive, which has
    /// already woken the controller.
    struct Latency {
        var fromStart: Double
        var fromReturn: Double
    }

    /// Pushes `pushes` specs one by one to a served repository and reads, from the controller's
    /// store, when each one's coding job started. Each push waits until the previous push's agent
    /// has left the coding lane, so every push finds it idle.
    private func measure(devsys: String, scratch: URL, pushes: Int, keepHook: Bool, poll: Double) throws -> [Latency] {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let bare = scratch.appendingPathComponent("blog.git").path
        let clone = scratch.appendingPathComponent("blog").path
        try runTool([devsys, "init", "--bare", bare])
        if !keepHook { try FileManager.default.removeItem(atPath: bare + "/hooks/post-receive") }
        try runTool(["git", "clone", "-q", bare, clone])
        // The template's example task would hold the coding lane when the first push comes.
        try FileManager.default.removeItem(atPath: "\(clone)/specs/001-about-page")
        try runTool(["git", "-C", clone, "add", "-A"])
        try runTool(["git", "-C", clone, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "No example task"])
        try runTool(["git", "-C", clone, "push", "-q", "origin", "main"])
        let serve = try ChildProcess(devsys, ["serve", "--repo", bare, "--poll", String(poll), "--grace", "0"], output: .discarded)
        defer { serve.stop() }
        let history = try ControllerHistory(bare: bare)
        let bound = poll * 3 + 10
        var latencies: [Latency] = []
        for index in 0..<pushes {
            try history.waitUntilCodingIsIdle(within: 60)
            let id = String(format: "%03d-latency", index + 100)
            let folder = "\(clone)/specs/\(id)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let spec = "id: \(id)\ntitle: Latency \(id)\nkind: chore\napp: blog\nacceptance:\n  - { name: tests, run: 'true' }\n"
            try Data(spec.utf8).write(to: URL(fileURLWithPath: "\(folder)/task.yaml"))
            try Data("echo x > app/\(id).txt\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/agent.sh"))
            try runTool(["git", "-C", clone, "add", "-A"])
            try runTool(["git", "-C", clone, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", id])
            let pushing = Date().timeIntervalSince1970
            try runTool(["git", "-C", clone, "push", "-q", "origin", "main"])
            let pushed = Date().timeIntervalSince1970
            let started = try history.codingStarted(id, within: bound).timeIntervalSince1970
            latencies.append(Latency(fromStart: started - pushing, fromReturn: started - pushed))
        }
        return latencies
    }
}
