import Foundation
import Git
import Hosts
import Probes
import TestSupport
import Testing

@testable import Deploy

#if canImport(Glibc)
import Glibc
#endif

/// Runs a shell command line on this machine; stdout without its final newline. Throws with
/// stderr when it exits non-zero.
@discardableResult
func sh(_ command: String, input: Data? = nil) throws -> String {
    let result = try LocalTransport(name: "test").run(command, timeout: .seconds(60), writeInput: input.map { data in { write in try write(data) } })
    guard result.succeeded else { throw TestFailure("`\(command)` exited \(result.status): \(result.stderrText)") }
    var text = result.stdoutText
    if text.hasSuffix("\n") { text.removeLast() }
    return text
}

func q(_ value: String) -> String { ShellWord.quote(value) }

/// A temp folder removed by `remove()`; its name holds a space and a quote, so every remote
/// path in these tests must be quoted right.
struct TempFolder {
    let path: String

    init(_ label: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-deploy-\(label)-\(UUID().uuidString.prefix(8)) it's").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A git repository made with the git CLI, holding an app under `app/`.
final class AppRepository {
    let path: String
    private(set) var repository: Repository

    init(in folder: TempFolder) throws {
        path = folder.path + "/control"
        try sh("git init -q -b main \(q(path))")
        repository = try Repository.open(at: path)
    }

    var source: AppSource { AppSource(repository: repository, path: "app") }

    /// Writes `files` (path → content; nil deletes), `symlinks` (path → target) and marks
    /// `executables` (chmod +x), then commits everything. Paths are relative to the repository.
    @discardableResult
    func commit(
        _ files: [String: String?],
        symlinks: [String: String] = [:],
        executables: [String] = [],
        message: String = "change"
    ) throws -> ObjectID {
        for (file, content) in files {
            let url = URL(fileURLWithPath: path).appendingPathComponent(file)
            if let content {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(content.utf8).write(to: url)
            } else {
                try FileManager.default.removeItem(at: url)
            }
        }
        for (link, target) in symlinks {
            let url = URL(fileURLWithPath: path).appendingPathComponent(link)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: url)
            try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
        }
        for file in executables { try sh("chmod +x \(q(path + "/" + file))") }
        try git("add -A")
        try git("commit -q -m \(q(message))")
        // A fresh handle sees the new objects at once.
        repository = try Repository.open(at: path)
        guard let id = ObjectID(hex: try git("rev-parse HEAD")) else { throw TestFailure("no HEAD") }
        return id
    }

    @discardableResult
    func git(_ arguments: String) throws -> String {
        try sh(
            "GIT_AUTHOR_NAME=Ada GIT_AUTHOR_EMAIL=ada@example.com GIT_COMMITTER_NAME=Ada GIT_COMMITTER_EMAIL=ada@example.com "
                + "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git -C \(q(path)) \(arguments)"
        )
    }

    /// `git archive <commit> app` extracted into `folder`: the reference tree to compare with.
    func archive(_ commit: ObjectID, into folder: String) throws -> String {
        try sh("mkdir -p \(q(folder)) && git -C \(q(path)) archive \(commit.hex) app | tar -x -C \(q(folder))")
        return folder + "/app"
    }
}

/// `diff -r` of two folders, symlinks compared as links; empty when they are the same.
func differences(_ left: String, _ right: String) throws -> String {
    let result = try LocalTransport().run("diff -r --no-dereference \(q(left)) \(q(right))", timeout: .seconds(30))
    return result.stdoutText + result.stderrText
}

extension PHPServer {
    func get(_ path: String) -> HTTPProbe.Response { HTTPProbe.get(url + path, timeout: .seconds(5)) }
}

extension HostDeployer {
    /// Lock, prepare, switch, unlock: a whole deploy of one commit to this host.
    @discardableResult
    func deploy(_ commit: ObjectID, sequence: Int, source: AppSource) throws -> PreparedRevision {
        try withLock(reason: "deploy \(sequence)") {
            let prepared = try prepare(commit: commit, sequence: sequence, tree: source)
            try switchTo(revision: prepared.revision)
            return prepared
        }
    }
}
