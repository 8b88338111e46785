import Foundation
import TestSupport
import Testing

/// Every benchmark in its quick mode (`devsys-bench --quick NAME`: one run on small sizes, no goal
/// checked), run as a person runs it: the built binary, from the repository root. A benchmark that
/// no longer finishes — say, because agents moved into a sandbox and cannot write where it waits —
/// fails here, not in the next release run. One at a time: several benchmarks start a controller,
/// an sshd or sandboxed agents, and each should find the machine as it would alone.
@Suite(.serialized) struct QuickBenchmarkTests {
    @Test func specs() async throws { try await runQuick("specs") }
    @Test func commits() async throws { try await runQuick("commits") }
    @Test func queue() async throws { try await runQuick("queue") }
    @Test func reconcile() async throws { try await runQuick("reconcile") }
    /// Needs the devsys binary built next to devsys-bench.
    @Test func latency() async throws { try await runQuick("latency") }
    /// Needs the devsys binary, bubblewrap, and root to hand the agents' folders to nobody.
    @Test func lanes() async throws { try await runQuick("lanes") }
    @Test func sandbox() async throws { try await runQuick("sandbox") }
    /// Needs sshd, ssh, scp and rsync: it starts its own sshd on 127.0.0.1.
    @Test func deploy() async throws { try await runQuick("deploy") }
}

/// The binaries built next to this test bundle (`.build/debug`).
private let buildFolder: URL = {
    let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var folder = URL(fileURLWithPath: bundle).deletingLastPathComponent()
    if folder.lastPathComponent == "MacOS" { folder = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    return folder
}()

/// The repository root, where the specs benchmark finds `specs/task.schema.json`.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs `devsys-bench --quick name` and requires it to exit 0 having printed a row of the table,
/// with `-` for the goal it did not check. Waits without holding a cooperative thread; a run
/// that takes longer than `bound` is killed (the bound is for a hang, not for speed).
private func runQuick(_ name: String, bound: Duration = .seconds(600)) async throws {
    let binary = buildFolder.appendingPathComponent("devsys-bench").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: build with swift build --build-tests")
    // No user or system git configuration: the benchmark must bring what it needs.
    var environment = ProcessInfo.processInfo.environment
    for key in environment.keys where key.hasPrefix("GIT_") { environment[key] = nil }
    environment["GIT_CONFIG_NOSYSTEM"] = "1"
    environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
    let child = try ChildProcess(
        binary,
        ["--quick", name],
        environment: environment,
        output: .captured,
        directory: repositoryRoot.path,
        ownProcessGroup: true,
        closeInheritedDescriptors: true
    )
    let clock = ContinuousClock()
    let started = clock.now
    while !child.hasExited {
        if clock.now - started > bound {
            child.stop(signal: SIGKILL)
            Issue.record("devsys-bench --quick \(name) did not finish within \(bound); killed")
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    let result = child.wait()
    let took = clock.now - started
    let rows = result.stdout.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| benchmark |") }
    #expect(result.status == 0, "devsys-bench --quick \(name) exited \(result.status) after \(took):\n\(result.stderr.suffix(4000))")
    #expect(!rows.isEmpty, "devsys-bench --quick \(name) printed no row:\n\(result.stdout)\n\(result.stderr.suffix(4000))")
    #expect(rows.allSatisfy { $0.hasSuffix("| - |") }, "a quick run checks no goal:\n\(rows.joined(separator: "\n"))")
}
