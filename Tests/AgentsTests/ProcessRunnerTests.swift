import Agents
import Foundation
import Processes
import Testing

@Suite("Process runner")
struct ProcessRunnerTests {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory())

    func sh(_ script: String, timeout: Duration? = nil, environment: [String: String] = [:]) -> ProcessRunner.Invocation {
        ProcessRunner.Invocation(arguments: ["sh", "-c", script], workingDirectory: folder, environment: environment, timeout: timeout)
    }

    @Test("exit status, stdout and stderr apart, stdin empty, the working folder")
    func basics() async throws {
        let outcome = try await ProcessRunner().run(sh("cat; pwd; echo oops >&2; exit 7"))
        #expect(outcome.termination == .exited(7))
        #expect(!outcome.timedOut && !outcome.succeeded)
        #expect(outcome.stdout.text == folder.resolvingSymlinksInPath().path + "\n")
        #expect(outcome.stderr.text == "oops\n")
    }

    @Test("the child gets PATH, HOME, LANG and what the caller adds — nothing else")
    func cleanEnvironment() async throws {
        setenv("DEVSYS_RUNNER_SECRET", "s3cret", 1)
        let runner = ProcessRunner(baseEnvironment: ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"])
        let outcome = try await runner.run(sh("env | sort", environment: ["EXTRA": "1"]))
        let names = outcome.stdout.text.split(separator: "\n").map { $0.prefix { $0 != "=" } }
        // sh itself adds PWD (and dash maybe SHLVL/OLDPWD); none of the controller's variables.
        #expect(Set(names).subtracting(["PWD", "SHLVL", "OLDPWD", "_"]) == ["PATH", "HOME", "LANG", "EXTRA"])
    }

    @Test("megabytes of output keep the first and last 32 KiB with a marker")
    func cappedOutput() async throws {
        let outcome = try await ProcessRunner().run(sh("head -c 5000000 /dev/zero | tr '\\0' 'x'; printf END"))
        #expect(outcome.stdout.totalBytes == 5_000_003)
        #expect(outcome.stdout.head.count == 32 * 1024)
        #expect(outcome.stdout.tail.count == 32 * 1024)
        #expect(outcome.stdout.cutBytes == 5_000_003 - 64 * 1024)
        #expect(outcome.stdout.text.contains("[… \(5_000_003 - 64 * 1024) bytes cut …]"))
        #expect(outcome.stdout.text.hasSuffix("xxEND"))
        #expect(outcome.succeeded)
    }

    @Test("at the timeout the group gets SIGTERM; one that ignores it gets SIGKILL")
    func timeoutEscalates() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = try await ProcessRunner(killGrace: .milliseconds(300)).run(sh("trap '' TERM; sleep 30", timeout: .milliseconds(300)))
        #expect(outcome.timedOut)
        #expect(outcome.termination == .signaled(SIGKILL) || outcome.termination == .signaled(SIGTERM))
        // The runner's own clock: the test's may include waiting for a cooperative thread.
        #expect(outcome.duration < .seconds(5), "took \(clock.now - start) as the test saw it")
        #expect(outcome.describe(timeout: .milliseconds(300)).hasPrefix("timed out after 0.3 s"))
    }

    @Test("a grandchild that left the group and holds stdout does not hang the runner")
    func escapedGrandchild() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        // setsid puts the sleep in a session (and group) of its own: the group kill misses it.
        let outcome = try await ProcessRunner().run(sh("setsid sleep 5 & echo started"))
        #expect(outcome.duration < .seconds(3), "took \(clock.now - start) as the test saw it")
        #expect(outcome.stdout.text == "started\n")
        #expect(outcome.succeeded)
    }

    @Test("a program that does not exist is an error naming it")
    func missingProgram() async throws {
        await #expect(throws: ProcessRunnerError.self) {
            try await ProcessRunner().run(.init(arguments: ["devsys-no-such-program"], workingDirectory: folder))
        }
        await #expect(throws: ProcessRunnerError.workingDirectoryMissing("/nonexistent/folder")) {
            try await ProcessRunner().run(.init(arguments: ["true"], workingDirectory: URL(fileURLWithPath: "/nonexistent/folder")))
        }
    }

    @Test("cancelling the task stops the command")
    func cancellation() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { try await ProcessRunner(killGrace: .milliseconds(200)).run(sh("sleep 600")) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // Well short of the command's 600 s. Loose, because the test's clock counts the wait for a
        // cooperative thread, which blocking tests beside it can hold for minutes.
        #expect(clock.now - start < .seconds(300))
    }
}
