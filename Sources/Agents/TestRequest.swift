import Foundation
import Git
import Processes
import Specs

/// One test job: a commit of a task branch to test.
public struct TestRequest: Sendable, Hashable {
    /// The control repository; the agent opens its own `Repository` on it.
    public var repositoryPath: String
    public var taskID: String
    public var commit: ObjectID
    public var spec: TaskSpec
    /// The app's test command (`apps.<name>.test` in devsys.yaml), run with `sh -c` from the
    /// checkout root; nil when the app has none.
    public var testCommand: String?
    /// A folder of the task under the state folder; the checkout is made in a fresh folder below.
    public var scratchFolder: URL
    /// How long each command may run: the spec's `resource_requirements.timeout_s` by default.
    public var timeout: Duration
    /// Variables given to the commands on top of the clean base and `DEVSYS_*`.
    public var environment: [String: String]
    /// Where each command runs (a sandbox of its own per command); nil: as the controller's user.
    public var sandbox: AgentSandbox?

    public init(
        repositoryPath: String,
        taskID: String,
        commit: ObjectID,
        spec: TaskSpec,
        testCommand: String?,
        scratchFolder: URL,
        timeout: Duration? = nil,
        environment: [String: String] = [:],
        sandbox: AgentSandbox? = nil
    ) {
        self.repositoryPath = repositoryPath
        self.taskID = taskID
        self.commit = commit
        self.spec = spec
        self.testCommand = testCommand
        self.scratchFolder = scratchFolder
        self.timeout = timeout ?? .seconds(max(1, spec.resources.timeoutSeconds))
        self.environment = environment
        self.sandbox = sandbox
    }
}

/// What one test command did.
public struct TestCommandResult: Sendable, Hashable {
    /// The testcase name: `<app> tests` for the app's test command, the check's name for an
    /// acceptance check.
    public var name: String
    public var command: String
    public var outcome: ProcessOutcome
    /// Names of the JUnit files the command wrote to `$DEVSYS_JUNIT_DIR` and that were kept.
    public var junitFiles: [String]
    /// Exited 0 in time, and its own JUnit report (if any) holds no failure or error.
    public var passed: Bool

    public init(name: String, command: String, outcome: ProcessOutcome, junitFiles: [String], passed: Bool) {
        self.name = name
        self.command = command
        self.outcome = outcome
        self.junitFiles = junitFiles
        self.passed = passed
    }
}

/// The result of testing one commit: a JUnit XML report and its gist.
public struct TestReport: Sendable, Hashable {
    public var taskID: String
    public var commit: ObjectID
    /// One `<testsuites>` document: the commands' own JUnit suites, and devsys's suite named after
    /// the task for the commands that wrote none and the skipped `http` checks.
    public var xml: String
    /// No failure and no error.
    public var passed: Bool
    /// Testcases in all, skipped ones included (JUnit's counting).
    public var tests: Int
    public var failures: Int
    public var errors: Int
    public var skipped: Int
    public var commands: [TestCommandResult]
    public var duration: Duration
    /// "3 tests, 1 failure: unit tests".
    public var summary: String

    public init(
        taskID: String,
        commit: ObjectID,
        xml: String,
        passed: Bool,
        tests: Int,
        failures: Int,
        errors: Int,
        skipped: Int,
        commands: [TestCommandResult],
        duration: Duration,
        summary: String
    ) {
        self.taskID = taskID
        self.commit = commit
        self.xml = xml
        self.passed = passed
        self.tests = tests
        self.failures = failures
        self.errors = errors
        self.skipped = skipped
        self.commands = commands
        self.duration = duration
        self.summary = summary
    }
}
