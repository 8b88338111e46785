import Agents
import Foundation
import Git
import Processes
import Specs
import Testing

@Suite("Testing agent")
struct TestingAgentTests {
    @Test("a passing commit: app tests and run checks pass, http checks are skipped, the report is stored")
    func passing() async throws {
        let fixture = try ControlRepoFixture()
        defer { fixture.remove() }
        let request = fixture.testRequest(acceptance: [
            .init(name: "about page served", probe: .http(.init(path: "/about.php"))),
            .init(name: "index renders", probe: .run("php app/index.php | grep -q Blog")),
        ])

        let report = try await TestingAgent().test(request)

        #expect(report.passed)
        #expect((report.tests, report.failures, report.errors, report.skipped) == (3, 0, 0, 1))
        #expect(report.summary == "3 tests (1 skipped), 0 failures")
        #expect(report.commands.map(\.name) == ["blog tests", "index renders"])
        #expect(report.commands.map(\.passed) == [true, true])
        #expect(try Shell.xmlProblem(report.xml) == nil)
        #expect(report.xml.contains("<testcase name=\"blog tests\" classname=\"001-about-page.tests\""))
        #expect(report.xml.contains("<system-out>index ok\n</system-out>"))
        #expect(report.xml.contains("<skipped message=\"checked after deploy (GET /about.php)\"/>"))

        let reports = fixture.root.appendingPathComponent("state/tasks/\(ControlRepoFixture.taskID)/reports")
        try TestingAgent.storeReport(report, for: fixture.head, in: Repository.open(at: fixture.repository), reportsFolder: reports)

        let note = try fixture.git(["notes", "--ref=devsys/tests", "show", fixture.head.hex])
        #expect(note.contains("<testcase name=\"index renders\""))
        let file = reports.appendingPathComponent("\(fixture.head.hex).xml")
        #expect(try String(contentsOf: file, encoding: .utf8) == report.xml)
        #expect(try FileManager.default.contentsOfDirectory(atPath: reports.path) == ["\(fixture.head.hex).xml"])
        // Testing again replaces the note.
        var again = report
        again.xml = report.xml.replacingOccurrences(of: "index ok", with: "index still ok")
        try TestingAgent.storeReport(again, for: fixture.head, in: Repository.open(at: fixture.repository), reportsFolder: reports)
        #expect(try fixture.git(["notes", "--ref=devsys/tests", "show", fixture.head.hex]).contains("index still ok"))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: fixture.scratch.path)) ?? []
        #expect(leftovers == ["reports"], "the checkout is removed")
    }

    @Test("a failing command is a failure testcase with its output escaped, however odd the bytes")
    func failing() async throws {
        let fixture = try ControlRepoFixture(files: [
            "tests/run.php":
                "<?php\necho \"expected <b>About</b> & got nothing\\n\";\necho \"\\xff\\xfe bad bytes \\x01 ]]> done\\n\";\nfwrite(STDERR, \"assertion failed at tests/run.php:4\\n\");\nexit(1);\n"
        ])
        defer { fixture.remove() }

        let report = try await TestingAgent().test(fixture.testRequest(acceptance: [.init(name: "lint", probe: .run("php -l app/index.php"))]))

        #expect(!report.passed)
        #expect((report.tests, report.failures, report.errors) == (2, 1, 0))
        #expect(report.summary == "2 tests, 1 failure: blog tests")
        #expect(try Shell.xmlProblem(report.xml) == nil)
        #expect(report.xml.contains("expected &lt;b&gt;About&lt;/b&gt; &amp; got nothing"))
        #expect(report.xml.contains("\u{FFFD}\u{FFFD} bad bytes \u{FFFD} ]]&gt; done"))
        #expect(report.xml.contains("<failure message=\"exit status 1: assertion failed at tests/run.php:4\" type=\"exit\">"))
        #expect(report.xml.contains("<system-err>assertion failed at tests/run.php:4\n</system-err>"))
        #expect(report.commands.map(\.passed) == [false, true])
    }

    @Test("JUnit files a command writes to $DEVSYS_JUNIT_DIR are kept and counted")
    func keepsCommandJUnit() async throws {
        let junit = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites>
              <testsuite name="Unit" tests="2" failures="1" errors="0" time="0.01">
                <testcase name="testHome" class="HomeTest" classname="HomeTest" time="0.004"/>
                <testcase name="testAbout" class="AboutTest" classname="AboutTest" time="0.006">
                  <failure type="PHPUnit\\Framework\\ExpectationFailedException">Failed asserting that 404 is 200.</failure>
                </testcase>
              </testsuite>
            </testsuites>
            """
        let fixture = try ControlRepoFixture(files: [
            "tests/junit.xml": junit, "tests/good.xml": "<testsuite name=\"Smoke\"><testcase name=\"up\"/></testsuite>",
        ])
        defer { fixture.remove() }

        let report = try await TestingAgent().test(
            fixture.testRequest(
                testCommand: "cp tests/junit.xml \"$DEVSYS_JUNIT_DIR/unit.xml\"; exit 1",
                acceptance: [
                    .init(name: "smoke", probe: .run("mkdir \"$DEVSYS_JUNIT_DIR/sub\" && cp tests/good.xml \"$DEVSYS_JUNIT_DIR/sub/smoke.xml\"")),
                    .init(name: "broken junit", probe: .run("echo '<testsuite><oops>' > \"$DEVSYS_JUNIT_DIR/broken.xml\"")),
                ]
            )
        )

        #expect(!report.passed)
        #expect(report.commands.map(\.junitFiles) == [["unit.xml"], ["sub/smoke.xml"], []])
        #expect((report.tests, report.failures, report.errors) == (4, 1, 0))
        #expect(report.summary == "4 tests, 1 failure: testAbout")
        #expect(try Shell.xmlProblem(report.xml) == nil)
        #expect(report.xml.contains("<testcase name=\"testAbout\" class=\"AboutTest\" classname=\"AboutTest\" time=\"0.006\">"))
        #expect(report.xml.contains("Failed asserting that 404 is 200."))
        #expect(report.xml.contains("<testsuite name=\"Smoke\">"))
        #expect(report.xml.contains("$DEVSYS_JUNIT_DIR/broken.xml was not kept: it is not well-formed XML"))
    }

    @Test("a command whose own JUnit shows no failure but that exits non-zero still fails")
    func exitStatusBeyondJUnit() async throws {
        let fixture = try ControlRepoFixture(files: ["tests/ok.xml": "<testsuite name=\"Unit\"><testcase name=\"fine\"/></testsuite>"])
        defer { fixture.remove() }

        let report = try await TestingAgent().test(
            fixture.testRequest(
                testCommand: "cp tests/ok.xml \"$DEVSYS_JUNIT_DIR/\"; echo 'Segmentation fault' >&2; exit 139",
                acceptance: [
                    .init(name: "about page served", probe: .http(.init(path: "/about.php")))
                ]
            )
        )

        #expect(!report.passed)
        #expect(report.summary == "3 tests (1 skipped), 1 failure: blog tests (exit status)")
        #expect(try Shell.xmlProblem(report.xml) == nil)
    }

    @Test("a command that runs past the timeout is an error testcase")
    func commandTimeout() async throws {
        let fixture = try ControlRepoFixture()
        defer { fixture.remove() }
        var request = fixture.testRequest(testCommand: "echo waiting; sleep 30", acceptance: [.init(name: "quick", probe: .run("true"))])
        request.timeout = .seconds(1)

        let report = try await TestingAgent(runner: ProcessRunner(killGrace: .milliseconds(300))).test(request)

        #expect(!report.passed)
        #expect((report.tests, report.failures, report.errors) == (2, 0, 1))
        #expect(report.xml.contains("<error message=\"timed out after 1 s (killed by signal 15 (SIGTERM))\" type=\"stopped\">"))
        #expect(report.summary == "2 tests, 0 failures, 1 error: blog tests")
    }

    @Test(
        "a full disk leaves no report file, not even a part of one, and no note",
        .enabled(if: getuid() == 0, "mounting a small tmpfs needs root")
    )
    func fullDisk() async throws {
        let fixture = try ControlRepoFixture()
        defer { fixture.remove() }
        let disk = fixture.root.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        let mounted = try Shell.run(["/bin/mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", disk.path], in: "/")
        try #require(mounted.status == 0, "cannot mount a tmpfs here: \(mounted.stderr)")
        defer { _ = try? Shell.run(["/bin/umount", disk.path], in: "/") }
        var report = try await TestingAgent().test(fixture.testRequest())
        report.xml += "<!-- " + String(repeating: "padding ", count: 40_000) + "-->\n"

        #expect(throws: AgentError.self) {
            try TestingAgent.storeReport(report, for: fixture.head, in: Repository.open(at: fixture.repository), reportsFolder: disk)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path) == [])
        #expect(try Shell.git(["notes", "--ref=devsys/tests", "list"], in: fixture.repository) == "")
    }
}

@Suite("Test pool")
struct TestPoolTests {
    @Test("never more than `parallel` test jobs at once, and that many when there is work")
    func bounded() async throws {
        let fixture = try ControlRepoFixture()
        defer { fixture.remove() }
        let log = fixture.outside.appendingPathComponent("times.log").path
        let command = "echo \"start $(date +%s.%N)\" >> \"$LOG\"; sleep 0.8; echo \"end $(date +%s.%N)\" >> \"$LOG\""
        let requests = (0..<5).map { _ in fixture.testRequest(testCommand: command, acceptance: [], environment: ["LOG": log]) }
        let pool = TestPool(parallel: 2)

        let results = await pool.testAll(requests)

        #expect(results.allSatisfy { (try? $0.get().passed) == true })
        let events = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap { line -> (Double, Int)? in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let time = Double(parts[1]) else { return nil }
            return (time, parts[0] == "start" ? 1 : -1)
        }
        #expect(events.count == 10)
        // Ends sort before starts at the same instant, so back-to-back jobs do not count as overlapping.
        var running = 0
        var most = 0
        for event in events.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            running += event.1
            most = max(most, running)
        }
        #expect(most == 2)
        #expect(await pool.runningCount == 0)
    }

    @Test("a job cancelled while waiting leaves the queue")
    func cancelWhileWaiting() async throws {
        let pool = TestPool(parallel: 1)
        let (started, startedSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        let blocker = Task {
            try await pool.run {
                startedSignal.yield()
                for await _ in release { break }
            }
        }
        for await _ in started { break }
        let waiter = Task { try await pool.run { "ran" } }
        while await pool.waitingCount == 0 { try await Task.sleep(for: .milliseconds(5)) }

        waiter.cancel()

        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(await pool.waitingCount == 0)
        releaseSignal.yield()
        try await blocker.value
        #expect(try await pool.run { "free again" } == "free again")
        #expect(await pool.runningCount == 0)
    }
}
