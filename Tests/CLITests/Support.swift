import Foundation
import TestSupport
import Testing

/// What a finished command printed and how it exited.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A scratch folder removed when the test ends.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    /// Writes `text` to `relative`, creating folders.
    func write(_ relative: String, _ text: String) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }
}

/// The devsys binary built next to this test bundle.
let devsysBinary: String = {
    let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var folder = URL(fileURLWithPath: bundle).deletingLastPathComponent()
    if folder.lastPathComponent == "MacOS" { folder = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    return folder.appendingPathComponent("devsys").path
}()

/// git and devsys see a fixed identity and no user or system configuration.
let commandEnvironment: [String: String] = {
    var environment = ProcessInfo.processInfo.environment
    for key in environment.keys where key.hasPrefix("GIT_") { environment[key] = nil }
    environment["GIT_AUTHOR_NAME"] = "Ada Tester"
    environment["GIT_AUTHOR_EMAIL"] = "ada@example.com"
    environment["GIT_COMMITTER_NAME"] = "Ada Tester"
    environment["GIT_COMMITTER_EMAIL"] = "ada@example.com"
    environment["GIT_CONFIG_NOSYSTEM"] = "1"
    environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
    environment["GIT_TERMINAL_PROMPT"] = "0"
    return environment
}()

/// Runs `executable` with `arguments` in `directory` and waits for it (posix_spawn through
/// `ChildProcess`, not Foundation's `Process`: see why there). stdout and stderr go to files, so a
/// chatty child never blocks on a full pipe.
@discardableResult
func run(
    _ executable: String,
    _ arguments: [String],
    in directory: URL? = nil,
    input: String? = nil,
    environment: [String: String] = commandEnvironment
) throws -> CommandResult {
    let result = try ChildProcess(
        executable,
        arguments,
        environment: environment,
        input: input.map { Data($0.utf8) },
        output: .captured,
        directory: directory?.path,
        closeInheritedDescriptors: true
    ).wait()
    return CommandResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
}

/// Polls `condition` every 20 ms until it holds; fails after `bound` of monotonic time — generous,
/// because on a busy machine a child may wait long for a core (the bound is for a hang, not speed).
func waitFor(_ what: String, bound: Duration = .seconds(60), _ condition: () throws -> Bool) throws {
    let clock = ContinuousClock()
    let giveUp = clock.now + bound
    while try !condition() {
        guard clock.now < giveUp else { throw TestFailure("gave up after \(bound) waiting for \(what)") }
        usleep(20_000)
    }
}

/// Runs devsys.
@discardableResult
func devsys(_ arguments: String..., in directory: URL? = nil) throws -> CommandResult {
    try run(devsysBinary, arguments, in: directory)
}

/// Runs git and requires it to succeed; returns its stdout.
@discardableResult
func git(_ arguments: String..., in directory: URL) throws -> String {
    let result = try run("/usr/bin/git", arguments, in: directory)
    try #require(result.status == 0, "git \(arguments.joined(separator: " ")) failed: \(result.stderr)")
    return result.stdout
}

/// Runs git and returns the whole result, for commands expected to fail.
func gitResult(_ arguments: String..., in directory: URL) throws -> CommandResult {
    try run("/usr/bin/git", arguments, in: directory)
}

/// A valid task spec for `id`.
func validSpec(id: String, app: String = "blog") -> String {
    """
    id: \(id)
    title: Task \(id)
    kind: feature
    app: \(app)
    story: As a reader I want \(id) so that the test has something to check.
    acceptance:
      - name: unit tests
        run: php tests/run.php
    expected_artifacts: [app/\(id).php]
    """
}
