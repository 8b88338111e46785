import Actions
import Environments
import Foundation
import Pipeline
import Runtime
import TestSupport
import Testing

/// A control repository made with the git CLI in a temp folder, with an app whose tests are shell
/// commands, and a state folder beside it. Specs are added with `addSpec`, then `commit`.
struct PipelineRepo {
    let root: URL
    let path: String
    let state: StateDirectory

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-pipeline-\(UUID().uuidString.prefix(8))")
        path = root.appendingPathComponent("control").path
        state = StateDirectory(root.appendingPathComponent("state"))
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main")
        try write("devsys.yaml", "apps:\n  web:\n    path: app\n    test: sh tests/run.sh\nagents:\n  coding: { kind: script, timeout_s: 60 }\n")
        try write("tests/run.sh", "echo 'app tests ok'\n")
        try write("app/index.txt", "home\n")
        try commit("Start")
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    /// A spec whose agent writes `app/<id>.txt` with the attempt number, and whose acceptance
    /// check is `acceptance` (by default: the file exists).
    /// `deployTo` adds `deploy: { env: … }`; `httpCheck` an `http` acceptance check of that path
    /// (which must answer 200 and contain `httpBody`).
    func addSpec(
        _ id: String,
        acceptance: String? = nil,
        agent: String? = nil,
        maxAttempts: Int = 3,
        review: String = "required",
        deployTo environment: String? = nil,
        httpCheck: String? = nil,
        httpBody: String = ""
    ) throws {
        let http = httpCheck.map { "\n  - name: served\n    http: { path: \($0), status: 200, body_contains: \(yamlQuoted(httpBody)) }" } ?? ""
        let deploy = environment.map { "\ndeploy: { env: \($0) }" } ?? ""
        try write(
            "specs/\(id)/task.yaml",
            """
            id: \(id)
            title: Task \(id)
            kind: feature
            app: web
            story: As a reader I want \(id) so that the test has something to check.
            acceptance:
              - name: accepted
                run: \(yamlQuoted(acceptance ?? "test -f app/\(id).txt"))\(http)
            expected_artifacts: [app/\(id).txt]
            retry_policy: { max_attempts: \(maxAttempts), backoff_s: 1, max_backoff_s: 1 }
            review: \(review)\(deploy)

            """
        )
        try write("specs/\(id)/agent.sh", (agent ?? "echo \"$DEVSYS_ATTEMPT\" > app/\(id).txt") + "\n")
    }

    private func yamlQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func commit(_ message: String) throws {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
    }

    func rev(_ revision: String) throws -> String {
        try git("rev-parse", "--verify", revision).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Deletes the store's files, as a lost disk would.
    func loseStore() throws {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: state.storeFile.path + suffix)
        }
        #expect(!FileManager.default.fileExists(atPath: state.storeFile.path))
    }

    @discardableResult
    func git(_ arguments: String...) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("GIT_") { environment[key] = nil }
        environment.merge([
            "GIT_AUTHOR_NAME": "Ada Tester", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada Tester",
            "GIT_COMMITTER_EMAIL": "ada@example.com", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
        ]) { $1 }
        let result = try ChildProcess(
            "/usr/bin/git",
            arguments,
            environment: environment,
            output: .captured,
            directory: path,
            closeInheritedDescriptors: true
        ).wait()
        try #require(result.status == 0, "git \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }
}
