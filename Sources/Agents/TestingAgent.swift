import ControlRepository
import Foundation
import Git
import Processes
import Specs

/// The testing agent (DESIGN §5): runs the app's test command and the spec's `run` acceptance
/// checks in a fresh checkout of a commit, and makes a JUnit XML report of them.
///
/// Each command runs with `sh -c` from the checkout root, one after the other, with
/// `DEVSYS_JUNIT_DIR` naming an empty folder of its own: JUnit files written there (PHPUnit's
/// `--log-junit "$DEVSYS_JUNIT_DIR/unit.xml"`) are kept in the report; a command that writes none
/// becomes one testcase with its output. `http` checks need a deployed host, so they are
/// recorded as skipped ("checked after deploy").
public struct TestingAgent: Sendable {
    public static let authorName = "devsys testing agent"
    public static let authorEmail = "testing-agent@devsys.invalid"
    public static let notesRef = ControlRefs.testNotes

    public var runner: ProcessRunner

    public init(runner: ProcessRunner = ProcessRunner()) {
        self.runner = runner
    }

    /// Tests `request.commit` and returns the report; a failing test is a report with
    /// `passed == false`, not an error. The checkout is removed afterwards.
    ///
    /// Throws `GitError` when the commit cannot be checked out, `AgentError.scratchFolder` when the
    /// scratch folder cannot be prepared, `ProcessRunnerError` when `sh` cannot be started,
    /// `SandboxUnavailable` when the request asks for a sandbox this machine cannot make, and
    /// `CancellationError` when cancelled (the running command is stopped first).
    public func test(_ request: TestRequest) async throws -> TestReport {
        let clock = ContinuousClock()
        let start = clock.now
        let startDate = Date()
        let work = request.scratchFolder.appendingPathComponent("test-\(request.commit.hex.prefix(12))-\(UUID().uuidString.prefix(8))")
        let checkout = work.appendingPathComponent("checkout")
        defer { try? FileManager.default.removeItem(at: work) }
        try await offload {
            try ScratchFolder.makeFresh(checkout)
            try Repository.open(at: request.repositoryPath).checkout(request.commit, into: checkout)
        }

        var report = JUnitReport(name: request.taskID, properties: [("task", request.taskID), ("commit", request.commit.hex)])
        var results: [TestCommandResult] = []
        for (index, command) in Self.commands(for: request).enumerated() {
            let junitFolder = work.appendingPathComponent("junit-\(index + 1)")
            try ScratchFolder.makeFresh(junitFolder)
            let invocation = ProcessRunner.Invocation(
                arguments: ["sh", "-c", command.command],
                workingDirectory: checkout,
                environment: request.environment.merging(
                    ["DEVSYS_JUNIT_DIR": junitFolder.path, "DEVSYS_TASK_ID": request.taskID, "DEVSYS_COMMIT": request.commit.hex]
                ) { $1 },
                timeout: request.timeout,
                sandbox: request.sandbox?.sandbox(writable: [checkout, junitFolder], suffix: String(index + 1))
            )
            let outcome = try await runner.run(invocation)
            results.append(Self.record(command, outcome: outcome, junitFolder: junitFolder, timeout: request.timeout, into: &report))
        }
        for check in request.spec.acceptance {
            if case .http(let probe) = check.probe {
                report.cases.append(
                    JUnitReport.TestCase(
                        name: check.name,
                        classname: "\(request.taskID).acceptance",
                        time: .zero,
                        result: .skipped(message: "checked after deploy (GET \(probe.path))"),
                        stdout: nil,
                        stderr: nil
                    )
                )
            }
        }
        let duration = clock.now - start
        return TestReport(
            taskID: request.taskID,
            commit: request.commit,
            xml: report.xml(duration: duration, timestamp: startDate),
            passed: report.failures == 0 && report.errors == 0,
            tests: report.tests,
            failures: report.failures,
            errors: report.errors,
            skipped: report.skipped,
            commands: results,
            duration: duration,
            summary: report.summary
        )
    }

    /// Stores a report: as the note on `commit` in `notesRef` (replacing an older one) and as
    /// `<reportsFolder>/<commit hex>.xml`, written whole or not at all (temporary file, fsync,
    /// rename). The file is written first, so a note never names a report that is not on disk.
    /// Throws `AgentError.scratchFolder` when the file cannot be written (a full disk; no partial
    /// file is left) and `GitError` when the note cannot be.
    public static func storeReport(
        _ report: TestReport,
        for commit: ObjectID,
        in repository: Repository,
        notesRef: String = TestingAgent.notesRef,
        reportsFolder: URL
    ) throws {
        try ScratchFolder.write(Data(report.xml.utf8), to: reportsFolder.appendingPathComponent("\(commit.hex).xml"))
        try repository.setNote(report.xml, on: commit, notesRef: notesRef, author: Signature(name: authorName, email: authorEmail), overwrite: true)
    }

    // MARK: Steps

    struct Command {
        var name: String
        var classname: String
        var command: String
    }

    /// The app's test command first, then the `run` checks in the spec's order.
    static func commands(for request: TestRequest) -> [Command] {
        var commands: [Command] = []
        if let test = request.testCommand, !test.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            commands.append(Command(name: "\(request.spec.app) tests", classname: "\(request.taskID).tests", command: test))
        }
        for check in request.spec.acceptance {
            if case .run(let command) = check.probe {
                commands.append(Command(name: check.name, classname: "\(request.taskID).acceptance", command: command))
            }
        }
        return commands
    }

    /// Adds what one command did to the report: its own JUnit suites when it wrote readable
    /// ones, else a testcase of its own; plus a testcase for a bad exit its JUnit does not show.
    static func record(
        _ command: Command,
        outcome: ProcessOutcome,
        junitFolder: URL,
        timeout: Duration,
        into report: inout JUnitReport
    )
        -> TestCommandResult
    {
        var kept: [JUnitReport.KeptSuite] = []
        var keptFiles: [String] = []
        var problems: [String] = []
        for file in junitFiles(in: junitFolder) {
            let name = file.path.hasPrefix(junitFolder.path + "/") ? String(file.path.dropFirst(junitFolder.path.count + 1)) : file.lastPathComponent
            guard let data = try? Data(contentsOf: file) else {
                problems.append("\(name) could not be read")
                continue
            }
            switch JUnitReport.readSuites(data) {
            case .success(let suites):
                kept += suites
                keptFiles.append(name)
            case .failure(let problem):
                problems.append("$DEVSYS_JUNIT_DIR/\(name) was not kept: \(problem.message)")
            }
        }
        report.kept += kept
        let result = caseResult(outcome, timeout: timeout)
        let junitFailed = kept.contains { $0.failures + $0.errors > 0 }
        let note = problems.isEmpty ? "" : problems.joined(separator: "\n") + "\n"
        if kept.isEmpty {
            report.cases.append(
                JUnitReport.TestCase(
                    name: command.name,
                    classname: command.classname,
                    time: outcome.duration,
                    result: result,
                    stdout: note + outcome.stdout.text,
                    stderr: outcome.stderr.text
                )
            )
        } else if !outcome.succeeded && (!junitFailed || outcome.timedOut) {
            // Its report says all is well (or was cut short), yet the command did not end well.
            report.cases.append(
                JUnitReport.TestCase(
                    name: "\(command.name) (exit status)",
                    classname: command.classname,
                    time: outcome.duration,
                    result: result,
                    stdout: note + outcome.stdout.text,
                    stderr: outcome.stderr.text
                )
            )
        }
        return TestCommandResult(
            name: command.name,
            command: command.command,
            outcome: outcome,
            junitFiles: keptFiles,
            passed: outcome.succeeded && !junitFailed
        )
    }

    /// The testcase result of a command's run, with the tail of its output as details.
    static func caseResult(_ outcome: ProcessOutcome, timeout: Duration) -> JUnitReport.Result {
        let details = [outcome.stderr, outcome.stdout].filter { $0.totalBytes > 0 }.map { $0.lastText(maxBytes: 4096) }.joined(separator: "\n")
        if outcome.memoryExceeded {
            return .error(message: "over its memory limit (resource_requirements.memory_mb): the kernel killed a process", details: details)
        }
        if outcome.timedOut { return .error(message: outcome.describe(timeout: timeout), details: details) }
        switch outcome.termination {
        case .exited(0): return .passed
        case .exited:
            let lastLine =
                (outcome.stderr.totalBytes > 0 ? outcome.stderr : outcome.stdout).lastText(maxBytes: 300)
                .split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            return .failure(message: outcome.termination.description + (lastLine.isEmpty ? "" : ": \(lastLine)"), details: details)
        case .signaled: return .error(message: outcome.termination.description, details: details)
        }
    }

    /// The `*.xml` files below `folder`, sorted by path.
    static func junitFiles(in folder: URL) -> [URL] {
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var files: [URL] = []
        for case let url as URL in enumerator where url.pathExtension.lowercased() == "xml" {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(url) }
        }
        return files.sorted { $0.path < $1.path }
    }
}
