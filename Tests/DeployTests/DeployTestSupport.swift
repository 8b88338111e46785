import Foundation
import Git
import Testing

@testable import Deploy

#if canImport(Glibc)
import Glibc
#endif

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

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

/// `php -S 127.0.0.1:<free port> deploy/php-router.php` with `DEVSYS_APP_ROOT`, stopped by `stop()`.
final class PHPServer {
    let url: String
    private let process: Process

    static var routerPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/php-router.php").path
    }

    init(appRoot: String) throws {
        let port = try Self.freePort()
        url = "http://127.0.0.1:\(port)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/php")
        process.arguments = ["-S", "127.0.0.1:\(port)", Self.routerPath]
        process.environment = ["DEVSYS_APP_ROOT": appRoot, "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while HTTPGet.fetch(url + "/", timeout: .seconds(1)).status == nil {
            guard Date() < deadline else {
                stop()
                throw TestFailure("php -S did not answer on \(url)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func get(_ path: String) -> HTTPGet.Response { HTTPGet.fetch(url + path, timeout: .seconds(5)) }

    func stop() {
        // SIGKILL: php -S started from the test process does not always end on SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A port the kernel just handed out on 127.0.0.1, free again once the socket is closed.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw TestFailure("bind failed") }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { throw TestFailure("getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
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
