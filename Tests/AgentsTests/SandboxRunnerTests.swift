import Foundation
import Processes
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The process runner with a sandbox: real bubblewrap, a real cgroup. What the step started ends
/// with it, however it detached; hidden folders are empty; the uid is not the controller's.
@Suite("Sandboxed process runner", .serialized)
struct SandboxRunnerTests {
    let folder: URL
    let secret: URL

    init() throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("devsys-sandbox-\(UUID().uuidString)")
        folder = base.appendingPathComponent("checkout")
        secret = base.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: secret, withIntermediateDirectories: true)
        try Data("hidden".utf8).write(to: secret.appendingPathComponent("devsys.sqlite"))
    }

    func sandboxed(_ script: String, timeout: Duration? = nil, name: String = Sandbox.stepName("test")) -> ProcessRunner.Invocation {
        ProcessRunner.Invocation(
            arguments: ["sh", "-c", script],
            workingDirectory: folder,
            timeout: timeout,
            sandbox: Sandbox(
                name: name,
                writable: [folder.path],
                hidden: [secret.path],
                network: .none,
                limits: .init(memoryBytes: 256 << 20, cpus: 1, processes: 128, fileBytes: 1 << 20)
            )
        )
    }

    static func running(_ marker: String) -> Int { runningProcesses(matching: marker).count }

    @Test("the checkout is writable, the hidden folder empty, the uid not the controller's, no network")
    func whatTheStepSees() async throws {
        let outcome = try await ProcessRunner().run(
            sandboxed(
                """
                echo made > here.txt && echo "wrote"
                ls -A '\(secret.path)' | wc -l
                id -u
                php -r '$s = @fsockopen("127.0.0.1", 22, $e, $m, 1); echo $s ? "net\\n" : "no net\\n";'
                """
            )
        )
        #expect(outcome.succeeded, "\(outcome.stderr.text)")
        let lines = outcome.stdout.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.first == "wrote")
        #expect(lines.dropFirst().first == "0", "the hidden folder is empty inside: \(lines)")
        #expect(lines.dropFirst(2).first != String(getuid()) || getuid() != 0, "root's agents run as nobody: \(lines)")
        #expect(lines.last == "no net")
        #expect(try String(contentsOf: folder.appendingPathComponent("here.txt"), encoding: .utf8) == "made\n")
    }

    @Test("a timeout ends everything the step started: setsid, a double fork, a TERM trap")
    func timeoutEndsEverything() async throws {
        let outcome = try await ProcessRunner(killGrace: .milliseconds(300)).run(
            sandboxed(
                "setsid sh -c 'exec sleep 41001' & sh -c '(exec sleep 41002 &)'; trap '' TERM; sleep 41003",
                timeout: .milliseconds(800)
            )
        )
        #expect(outcome.timedOut)
        try await Task.sleep(for: .seconds(1))
        #expect(Self.running("sleep 4100") == 0, "nothing left 1 s after the step ended")
    }

    @Test("over its memory, the step is killed and the outcome says so")
    func memoryLimit() async throws {
        let outcome = try await ProcessRunner().run(sandboxed("php -d memory_limit=-1 -r '$s = str_repeat(\"x\", 600 * 1024 * 1024);'"))
        #expect(!outcome.succeeded)
        #expect(outcome.memoryExceeded, "\(outcome.termination) \(outcome.stderr.text)")
    }

    @Test("a step whose controller is gone is ended by name: what a takeover does")
    func endingByName() async throws {
        let name = Sandbox.stepName("takeover")
        let runner = Task { try await ProcessRunner().run(sandboxed("sleep 41010", name: name)) }
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(30)
        while Self.running("sleep 41010") == 0 && clock.now < giveUp { try await Task.sleep(for: .milliseconds(20)) }
        #expect(Self.running("sleep 41010") > 0, "the step runs")
        SandboxHost.current.cgroups.endAll(named: name)
        let outcome = try await runner.value
        #expect(outcome.termination == .signaled(SIGKILL) || outcome.termination != .exited(0), "\(outcome.termination)")
        #expect(Self.running("sleep 41010") == 0)
    }
}
