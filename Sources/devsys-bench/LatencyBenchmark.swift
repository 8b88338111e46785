import Foundation

/// Commit-to-work latency: from `git push` returning to the coding agent starting, with a running
/// `devsys serve`. With the post-receive hook it is woken at once; polling only (the hook
/// removed), it finds the push on its next poll — how Argo CD (every 3 min) and Flux (every
/// 1 min) work by default; here the poll is 1 s so the run stays short.
struct LatencyBenchmark: Benchmark {
    let name = "latency"
    var pushes = 15
    var pollingPushes = 6

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

    /// Pushes `pushes` specs one by one to a served repository; each agent writes the time it started.
    private func measure(devsys: String, scratch: URL, pushes: Int, keepHook: Bool, poll: Double) throws -> [Latency] {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let bare = scratch.appendingPathComponent("blog.git").path
        let clone = scratch.appendingPathComponent("blog").path
        let stamps = scratch.appendingPathComponent("stamps")
        try FileManager.default.createDirectory(at: stamps, withIntermediateDirectories: true)
        try runTool([devsys, "init", "--bare", bare])
        if !keepHook { try FileManager.default.removeItem(atPath: bare + "/hooks/post-receive") }
        try runTool(["git", "clone", "-q", bare, clone])
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: devsys)
        serve.arguments = ["serve", "--repo", bare, "--poll", String(poll)]
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 0.5)
        var latencies: [Latency] = []
        for index in 0..<pushes {
            let id = String(format: "%03d-latency", index + 100)
            let folder = "\(clone)/specs/\(id)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let spec = "id: \(id)\ntitle: Latency \(id)\nkind: chore\napp: blog\nacceptance:\n  - { name: tests, run: 'true' }\n"
            try Data(spec.utf8).write(to: URL(fileURLWithPath: "\(folder)/task.yaml"))
            let agent = "date +%s.%N > \"\(stamps.path)/\(id)\"\necho x > app/\(id).txt\n"
            try Data(agent.utf8).write(to: URL(fileURLWithPath: "\(folder)/agent.sh"))
            try runTool(["git", "-C", clone, "add", "-A"])
            try runTool(["git", "-C", clone, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", id])
            let pushing = Date().timeIntervalSince1970
            try runTool(["git", "-C", clone, "push", "-q", "origin", "main"])
            let pushed = Date().timeIntervalSince1970
            let stamp = stamps.appendingPathComponent(id)
            let deadline = Date().addingTimeInterval(poll * 3 + 10)
            while !FileManager.default.fileExists(atPath: stamp.path) && Date() < deadline { usleep(1_000) }
            usleep(2_000)
            guard let text = try? String(contentsOf: stamp, encoding: .utf8),
                let started = Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { throw BenchmarkError("the coding job for \(id) did not start within \(Int(poll * 3 + 10)) s") }
            latencies.append(Latency(fromStart: started - pushing, fromReturn: started - pushed))
        }
        return latencies
    }
}
