import Agents
import Foundation
import Git
import Specs
import TestSupport
import Testing

/// A control repository made with the git CLI in a temp folder: devsys.yaml, a spec with its
/// agent.sh, a small PHP app with tests, committed on `main`, and `task/<id>` branched from it.
/// Remove it with `remove()` in a `defer`.
struct ControlRepoFixture {
    static let taskID = "001-about-page"

    let root: URL
    let repository: String
    let head: ObjectID
    /// Outside the repository: where scripts leave what the test reads back.
    let outside: URL
    let scratch: URL

    var branch: String { "refs/heads/task/\(Self.taskID)" }

    /// `agentScript` becomes `specs/001-about-page/agent.sh`; nil leaves it out. `files` are more
    /// files to commit (path → content).
    init(agentScript: String? = "echo about > app/about.php\n", files: [String: String] = [:]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-agents-\(UUID().uuidString.prefix(8))")
        repository = root.appendingPathComponent("control").path
        outside = root.appendingPathComponent("outside")
        scratch = root.appendingPathComponent("state/tasks/\(Self.taskID)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        var all = [
            "devsys.yaml": "apps:\n  blog:\n    path: app\n    test: php tests/run.php\n",
            "specs/\(Self.taskID)/task.yaml": "id: \(Self.taskID)\ntitle: Add an About page\n",
            "specs/\(Self.taskID)/spec.md": "# Feature: About page\n\n## Requirements\n\n- **FR-001** The blog MUST have an About page.\n",
            "app/index.php": "<?php echo 'Blog';\n",
            "tests/run.php":
                "<?php\n$ok = strpos(file_get_contents(__DIR__ . '/../app/index.php'), 'Blog') !== false;\necho $ok ? \"index ok\\n\" : \"index broken\\n\";\nexit($ok ? 0 : 1);\n",
        ]
        if let agentScript { all["specs/\(Self.taskID)/agent.sh"] = agentScript }
        all.merge(files) { $1 }
        try Shell.git(["init", "-q", "-b", "main", repository], in: root.path)
        for (path, content) in all {
            let url = URL(fileURLWithPath: repository).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        try Shell.git(["add", "-A"], in: repository)
        try Shell.git(["commit", "-q", "-m", "Start"], in: repository)
        try Shell.git(["branch", "task/\(Self.taskID)"], in: repository)
        head = try Self.rev("task/\(Self.taskID)", in: repository)
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    static func rev(_ revision: String, in repository: String) throws -> ObjectID {
        let hex = try Shell.git(["rev-parse", "--verify", revision], in: repository)
        guard let id = ObjectID(hex: hex) else { throw TestFailure("git rev-parse \(revision) gave '\(hex)'") }
        return id
    }

    func branchHead() throws -> ObjectID { try Self.rev("task/\(Self.taskID)", in: repository) }

    @discardableResult
    func git(_ arguments: [String]) throws -> String { try Shell.git(arguments, in: repository) }

    func spec(acceptance: [TaskSpec.AcceptanceCheck]? = nil, artifacts: [String] = ["app/about.php"], timeout: Int = 900) -> TaskSpec {
        TaskSpec(
            id: Self.taskID,
            title: "Add an About page",
            kind: .feature,
            app: "blog",
            story: "As a reader I want an About page so that I know who writes the blog.",
            acceptance: acceptance ?? [
                .init(name: "about page served", probe: .http(.init(path: "/about.php", status: 200, bodyContains: "About"))),
                .init(name: "unit tests", probe: .run("php tests/run.php")),
            ],
            resources: .init(timeoutSeconds: timeout),
            expectedArtifacts: artifacts
        )
    }

    func codingRequest(
        attempt: Int = 1,
        head: ObjectID? = nil,
        feedback: String? = nil,
        agent: ProjectConfig.CodingAgent = .init(),
        artifacts: [String] = ["app/about.php"],
        timeout: Duration? = nil,
        environment: [String: String] = [:]
    ) -> CodingRequest {
        CodingRequest(
            repositoryPath: repository,
            taskID: Self.taskID,
            spec: spec(artifacts: artifacts),
            head: head ?? self.head,
            attempt: attempt,
            feedback: feedback,
            agent: agent,
            scratchFolder: scratch,
            timeout: timeout,
            environment: ["OUT": outside.path].merging(environment) { $1 }
        )
    }

    func testRequest(
        commit: ObjectID? = nil,
        testCommand: String? = "php tests/run.php",
        acceptance: [TaskSpec.AcceptanceCheck]? = nil,
        environment: [String: String] = [:]
    ) -> TestRequest {
        TestRequest(
            repositoryPath: repository,
            taskID: Self.taskID,
            commit: commit ?? head,
            spec: spec(acceptance: acceptance),
            testCommand: testCommand,
            scratchFolder: scratch,
            timeout: .seconds(30),
            environment: ["OUT": outside.path].merging(environment) { $1 }
        )
    }

    func readOutside(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: outside.appendingPathComponent(name)), as: UTF8.self)
    }
}

/// Runs commands for the tests themselves, with Foundation's Process (not the code under test).
enum Shell {
    /// git with a fixed identity and no user or system config; returns stdout without the final
    /// newline, throws with stderr when it fails.
    @discardableResult
    static func git(_ arguments: [String], in folder: String) throws -> String {
        let result = try run(
            ["/usr/bin/git"] + arguments,
            in: folder,
            environment: [
                "GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada Author",
                "GIT_COMMITTER_EMAIL": "ada@example.com", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
            ]
        )
        guard result.status == 0 else { throw TestFailure("git \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)") }
        return result.stdout
    }

    static func run(
        _ arguments: [String],
        in folder: String,
        environment: [String: String] = [:]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try ChildProcess(
            arguments[0],
            Array(arguments.dropFirst()),
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }.merging(environment) { $1 },
            output: .captured,
            directory: folder,
            closeInheritedDescriptors: true
        ).wait()
        var text = result.stdout
        if text.hasSuffix("\n") { text.removeLast() }
        return (result.status, text, result.stderr)
    }

    /// Whether python3 says the XML file is well-formed; the parser's message when not.
    static func xmlProblem(_ xml: String) throws -> String? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).xml")
        try Data(xml.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try run(
            ["/usr/bin/env", "python3", "-c", "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])", file.path],
            in: "/"
        )
        return result.status == 0 ? nil : result.stderr
    }

    /// Whether a process with this pid is still alive (and not a zombie).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !status.contains(") Z ")
    }
}

extension CodingOutcome {
    var committedID: ObjectID? {
        if case .committed(let id, _) = self { return id }
        return nil
    }

    var failureReason: String? {
        if case .failed(let reason, _) = self { return reason }
        return nil
    }

    var failureLog: String? {
        if case .failed(_, let log) = self { return log }
        return nil
    }
}
