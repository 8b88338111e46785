import Foundation
import Git
import TestSupport
import Testing

/// A scratch folder for one test, with the git CLI as the oracle. Remove it with `remove()` in a `defer`.
struct Scratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-gittests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }
    func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    /// A non-bare repository made by `git init` in `name`.
    func gitInit(_ name: String, bare: Bool = false) throws -> String {
        let path = self.path(name)
        try git(["init", "-q"] + (bare ? ["--bare"] : []) + [path])
        return path
    }

    /// Writes a file in a work tree, making folders as needed.
    func write(_ content: String, to path: String, in repository: String, executable: Bool = false) throws {
        let url = URL(fileURLWithPath: repository).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
    }

    /// Stages everything in a work tree and commits it with git, at a time `second` seconds after
    /// a fixed epoch (so history has a well-defined order); returns the new commit id.
    @discardableResult
    func gitCommitAll(_ message: String, in repository: String, second: Int) throws -> ObjectID {
        try git(["-C", repository, "add", "-A"])
        try git(["-C", repository, "commit", "-q", "--allow-empty", "-m", message], date: second)
        return try rev(repository, "HEAD")
    }

    /// `git rev-parse` of `revision`, as an ObjectID.
    func rev(_ repository: String, _ revision: String) throws -> ObjectID {
        let hex = try git(["-C", repository, "rev-parse", "--verify", "-q", revision])
        guard let id = ObjectID(hex: hex) else { throw TestFailure("git rev-parse \(revision) gave '\(hex)'") }
        return id
    }

    /// Runs git with a fixed identity, no user or system config, `main` as the default branch,
    /// and returns stdout without the trailing newline; throws with stderr when git fails.
    @discardableResult
    func git(_ arguments: [String], date second: Int = 0, input: String? = nil, environment: [String: String] = [:]) throws -> String {
        try git(arguments, date: second, bytes: input.map { Data($0.utf8) }, environment: environment)
    }

    /// `git(_:)` with raw bytes on stdin.
    @discardableResult
    func git(_ arguments: [String], date second: Int = 0, bytes input: Data?, environment: [String: String] = [:]) throws -> String {
        let result = try runGit(arguments, date: second, input: input, environment: environment)
        guard result.status == 0 else {
            throw TestFailure("git \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    /// Runs git and returns its exit status, for commands whose failure is the answer.
    func gitStatus(_ arguments: [String]) throws -> Int32 {
        try runGit(arguments, date: 0, input: nil, environment: [:]).status
    }

    /// The environment git runs with in tests: the test identity, fixed dates, no user or system configuration.
    func gitEnvironment(date second: Int = 0, environment: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        let date = "\(1_700_000_000 + second) +0000"
        env.merge([
            "GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": "Carl Committer", "GIT_COMMITTER_EMAIL": "carl@example.com", "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": root.path,
        ]) { $1 }
        env.merge(environment) { $1 }
        return env
    }

    /// Starts git with the test identity in the background (output discarded).
    func startGit(_ arguments: [String], date second: Int = 0, environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(
            "/usr/bin/git",
            ["-c", "init.defaultBranch=main"] + arguments,
            environment: gitEnvironment(date: second, environment: environment),
            closeInheritedDescriptors: true
        )
    }

    func runGit(
        _ arguments: [String],
        date second: Int,
        input: Data?,
        environment: [String: String]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try ChildProcess(
            "/usr/bin/git",
            ["-c", "init.defaultBranch=main"] + arguments,
            environment: gitEnvironment(date: second, environment: environment),
            input: input,
            output: .captured,
            closeInheritedDescriptors: true
        ).wait()
        var text = result.stdout
        if text.hasSuffix("\n") { text.removeLast() }
        return (result.status, text, result.stderr)
    }
}

/// The identity devsys writes with in tests.
let robot = Signature(name: "Devsys Robot", email: "robot@devsys.test", time: Date(timeIntervalSince1970: 1_700_100_000))

/// The GitError a throwing call raised, or nil when it did not throw one.
func gitError(_ body: () throws -> Void) -> GitError? {
    do {
        try body()
        return nil
    } catch let error as GitError {
        return error
    } catch {
        return nil
    }
}

extension String {
    var data: Data { Data(utf8) }
}
