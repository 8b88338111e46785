import Foundation
import TestSupport

/// Lanes that do not wait for each other, measured on a running `devsys serve` (release build):
///
/// - an env-ref push (an emergency rollback with plain git) until the `local` host serves it,
///   with the coding lanes idle and with both coding slots held by agents that work on;
/// - a spec push until its coding job starts, with both testing slots held by long tests.
///
/// Each rollback goes one deploy further back: devsys marks the commit a rollback leaves bad and
/// refuses to deploy it again, so a push back to it would measure a refusal. The agents and tests
/// that hold the slots wait in a folder devsys.yaml lets them write (`agents.<kind>.writable`):
/// their sandbox hides the rest of this machine's `/tmp`.
///
/// Before the lanes, the controller ran jobs in batches: the same rollback behind a 25 s coding
/// agent went live after 30 s. Argo CD polls every 3 min and Flux every 1 min by default.
struct LanesBenchmark: Benchmark {
    let name = "lanes"
    var rollbacks = 10
    var pushes = 10

    var quick: Self { Self(rollbacks: 2, pushes: 2) }

    func run(runs: Int, scratch: URL) throws -> [Comparison] {
        let devsys = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("devsys").path
        guard FileManager.default.isExecutableFile(atPath: devsys) else {
            throw BenchmarkError("\(devsys) is missing: build it too (swift build -c release)")
        }
        let idle = try Site(devsys: devsys, scratch: scratch.appendingPathComponent("idle"))
        let idleRollbacks = try idle.rollbacks(rollbacks, busyCoding: false)
        let busy = try Site(devsys: devsys, scratch: scratch.appendingPathComponent("busy"))
        let busyRollbacks = try busy.rollbacks(rollbacks, busyCoding: true)
        let starts = try Site(devsys: devsys, scratch: scratch.appendingPathComponent("starts")).codingStarts(pushes)
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        let milliseconds = { (value: Double) in String(format: "%.1f", value * 1000) }
        return [
            Comparison(
                name: "git push --force of env/staging to the deploy before → host serves it, 2 coding agents busy (\(rollbacks) rollbacks; "
                    + "from push return: median \(milliseconds(median(busyRollbacks.map(\.fromReturn)))) ms)",
                unit: "rollback",
                operations: 1,
                devsys: median(busyRollbacks.map(\.fromStart)),
                alternative: "the same with the coding lanes idle",
                alternativeSeconds: median(idleRollbacks.map(\.fromStart)),
                goal: "≤ 1 s with busy lanes (was 30 s behind a 25 s agent)",
                met: median(busyRollbacks.map(\.fromStart)) <= 1
            ),
            Comparison(
                name: "git push of a spec → coding job started, 2 testing slots busy (\(pushes) pushes; "
                    + "from push start: median \(milliseconds(median(starts.map(\.fromStart)))) ms)",
                unit: "push",
                operations: 1,
                devsys: max(0.000_1, median(starts.map(\.fromReturn))),
                alternative: "Flux's default poll (1 min)",
                alternativeSeconds: 60,
                goal: "median ≤ 20 ms from the push's return",
                met: median(starts.map(\.fromReturn)) <= 0.020
            ),
        ]
    }

    struct Latency {
        var fromStart: Double
        var fromReturn: Double
    }

    /// A bare repository with one local host, a clone, and `devsys serve` on it.
    final class Site {
        let devsys: String
        let bare: String
        let clone: String
        let host: String
        let traces: String

        init(devsys: String, scratch: URL) throws {
            self.devsys = devsys
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            bare = scratch.appendingPathComponent("blog.git").path
            clone = scratch.appendingPathComponent("blog").path
            host = scratch.appendingPathComponent("host").path
            traces = scratch.appendingPathComponent("traces").path
            try FileManager.default.createDirectory(atPath: traces, withIntermediateDirectories: true)
            try runTool([devsys, "init", "--bare", bare])
            try runTool(["git", "clone", "-q", bare, clone])
            let config = """
                apps:
                  blog: { path: app, test: php tests/run.php }
                environments:
                  staging: { hosts: [dev1], keep_revisions: 50 }
                hosts:
                  dev1: { transport: local, root: \(host) }
                agents:
                  coding: { kind: script, parallel: 2, writable: [\(traces)] }
                  testing: { parallel: 2, writable: [\(traces)] }

                """
            try Data(config.utf8).write(to: URL(fileURLWithPath: "\(clone)/devsys.yaml"))
            // The template's example task would take a coding slot.
            try FileManager.default.removeItem(atPath: "\(clone)/specs/001-about-page")
            try commitAndPush("Staging on a local host")
        }

        func commitAndPush(_ message: String) throws {
            try runTool(["git", "-C", clone, "add", "-A"])
            try runTool(["git", "-C", clone, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", message])
            try runTool(["git", "-C", clone, "push", "-q", "origin", "main"])
        }

        var head: String {
            get throws {
                String(decoding: try runTool(["git", "-C", clone, "rev-parse", "HEAD"]), as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines
                )
            }
        }

        var served: String? {
            (try? String(contentsOfFile: "\(host)/blog/current/REVISION", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func serve() throws -> ChildProcess {
            try ChildProcess(devsys, ["serve", "--repo", bare, "--poll", "600", "--grace", "0"], output: .discarded, ownProcessGroup: true)
        }

        /// Adds a spec; its agent and its acceptance check are shell lines.
        func addSpec(_ id: String, agent: String, check: String = "true") throws {
            let folder = "\(clone)/specs/\(id)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let spec = "id: \(id)\ntitle: Bench \(id)\nkind: chore\napp: blog\nacceptance:\n  - { name: check, run: \"\(check)\" }\n"
            try Data(spec.utf8).write(to: URL(fileURLWithPath: "\(folder)/task.yaml"))
            try Data(agent.utf8).write(to: URL(fileURLWithPath: "\(folder)/agent.sh"))
        }

        func waitFor(_ path: String, seconds: Double = 60) throws {
            let deadline = Date().addingTimeInterval(seconds)
            while !FileManager.default.fileExists(atPath: path) {
                guard Date() < deadline else { throw BenchmarkError("\(path) did not appear within \(Int(seconds)) s") }
                usleep(1_000)
            }
        }

        /// Deploys `count` + 1 versions of the app one after the other, then pushes the env ref back
        /// one deploy at a time, timing each push until the host serves it.
        func rollbacks(_ count: Int, busyCoding: Bool) throws -> [Latency] {
            var deployed: [String] = []
            for version in 0...count {
                if version > 0 {
                    let page = "<?php echo '<h1>version \(version)</h1>';\n"
                    try Data(page.utf8).write(to: URL(fileURLWithPath: "\(clone)/app/version.php"))
                    try commitAndPush("Version \(version)")
                }
                try runTool([devsys, "deploy", "staging", "--repo", bare])
                deployed.append(try head)
            }
            let serve = try serve()
            defer { serve.stop(signal: SIGKILL) }
            _ = try ControllerHistory(bare: bare)  // listening: a push before would wait for the next poll
            if busyCoding {
                for id in ["901-busy-a", "902-busy-b"] {
                    let agent = "touch \"\(traces)/\(id)\"\nwhile [ ! -e \"\(traces)/release\" ]; do sleep 0.1; done\necho x > app/\(id).txt\n"
                    try addSpec(id, agent: agent)
                }
                try commitAndPush("Two long tasks")
                try waitFor("\(traces)/901-busy-a")
                try waitFor("\(traces)/902-busy-b")
            }
            defer { _ = FileManager.default.createFile(atPath: "\(traces)/release", contents: nil) }
            var latencies: [Latency] = []
            for target in deployed.dropLast().reversed() {
                let pushing = Date().timeIntervalSince1970
                try runTool(["git", "-C", clone, "push", "-q", "--force", "origin", "\(target):refs/heads/env/staging"])
                let pushed = Date().timeIntervalSince1970
                let deadline = Date().addingTimeInterval(30)
                while served != target {
                    guard Date() < deadline else { throw BenchmarkError("the rollback to \(target.prefix(12)) did not go live within 30 s") }
                    usleep(500)
                }
                let live = Date().timeIntervalSince1970
                latencies.append(Latency(fromStart: live - pushing, fromReturn: live - pushed))
            }
            return latencies
        }

        /// Pushes specs one by one while two long tests hold the testing lane; reads when each one's
        /// coding job started from the controller's store (see `ControllerHistory`).
        func codingStarts(_ count: Int) throws -> [Latency] {
            let serve = try serve()
            defer { serve.stop(signal: SIGKILL) }
            let history = try ControllerHistory(bare: bare)
            for id in ["911-long-test-a", "912-long-test-b"] {
                let check = "touch \(traces)/\(id); while [ ! -e \(traces)/release ]; do sleep 0.1; done"
                try addSpec(id, agent: "echo x > app/\(id).txt\n", check: check)
            }
            try commitAndPush("Two long tests")
            try waitFor("\(traces)/911-long-test-a")
            try waitFor("\(traces)/912-long-test-b")
            defer { _ = FileManager.default.createFile(atPath: "\(traces)/release", contents: nil) }
            var latencies: [Latency] = []
            for index in 0..<count {
                try history.waitUntilCodingIsIdle(within: 60)
                let id = String(format: "%03d-push", 920 + index)
                try addSpec(id, agent: "echo x > app/\(id).txt\n")
                try runTool(["git", "-C", clone, "add", "-A"])
                try runTool(["git", "-C", clone, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", id])
                let pushing = Date().timeIntervalSince1970
                try runTool(["git", "-C", clone, "push", "-q", "origin", "main"])
                let pushed = Date().timeIntervalSince1970
                let started = try history.codingStarted(id, within: 60).timeIntervalSince1970
                latencies.append(Latency(fromStart: started - pushing, fromReturn: started - pushed))
            }
            return latencies
        }
    }
}
