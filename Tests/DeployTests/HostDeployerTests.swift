import Foundation
import Git
import Hosts
import TestSupport
import Testing

@testable import Deploy

@Suite("Deploying to a host folder")
struct HostDeployerTests {
    /// A repository with an app, a host root and a deployer on it for app `blog`, host `web1`.
    struct Setup {
        let folder: TempFolder
        let repo: AppRepository
        let root: String
        let deployer: HostDeployer
        var app: String { deployer.appFolder }

        init(_ label: String, actor: String = "alice") throws {
            folder = try TempFolder(label)
            repo = try AppRepository(in: folder)
            root = folder.path + "/hosts/web1 root"
            deployer = try HostDeployer(transport: LocalTransport(name: "web1"), app: "blog", root: root, actor: actor)
        }

        func read(_ path: String) throws -> String { try String(contentsOfFile: app + "/" + path, encoding: .utf8) }
        func listing(_ path: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: app + "/" + path).sorted() }
        func inode(_ path: String) throws -> String { try sh("stat -c %i \(q(app + "/" + path))") }
    }

    static let firstTree: [String: String?] = [
        "app/index.php": "<?php echo 'revision one';\n",
        "app/style.css": "body { color: black; }\n",
        "app/legacy/old.php": "<?php echo 'old';\n",
        "app/lib/util.php": "<?php function util() { return 1; }\n",
        "tests/run.php": "<?php exit(0);\n",
    ]

    @Test("a first deploy lays out revisions/0001-<sha12>, current and the log as the contract says")
    func firstDeployLayout() throws {
        let setup = try Setup("layout")
        defer { setup.folder.remove() }
        let commit = try setup.repo.commit(Self.firstTree)
        let sha12 = String(commit.hex.prefix(12))

        let prepared = try setup.deployer.deploy(commit, sequence: 1, source: setup.repo.source)

        #expect(prepared.base == nil)
        #expect(prepared.revision.folderName == "0001-\(sha12)")
        #expect(try setup.listing("revisions") == ["0001-\(sha12)"])
        #expect(try setup.read("revisions/0001-\(sha12)/REVISION") == commit.hex + "\n")
        #expect(try sh("readlink \(q(setup.app + "/current"))") == "revisions/0001-\(sha12)")
        let reference = try setup.repo.archive(commit, into: setup.folder.path + "/ref")
        try sh("cp \(q(setup.app + "/current/REVISION")) \(q(reference))")
        #expect(try differences(reference, setup.app + "/current/") == "")
        #expect(try setup.listing(".devsys") == ["log"], "the lock is released")
        #expect(try setup.deployer.current() == HostRevision(revision: prepared.revision, commit: commit))

        let lines = try setup.read(".devsys/log").split(separator: "\n")
        let entries = try lines.map { try JSONDecoder().decode(HostDeployer.LogEntry.self, from: Data($0.utf8)) }
        #expect(entries.map(\.action) == ["prepare", "switch"])
        #expect(entries.allSatisfy { $0.host == "web1" && $0.app == "blog" && $0.actor == "alice" && $0.commit == commit.hex })
    }

    @Test("a second deploy hard-links unchanged files, sends only the changes and leaves revision 1 intact")
    func incrementalDeploy() throws {
        let setup = try Setup("incremental")
        defer { setup.folder.remove() }
        let first = try setup.repo.commit(Self.firstTree)
        let one = try setup.deployer.deploy(first, sequence: 1, source: setup.repo.source).revision.folderName
        let second = try setup.repo.commit([
            "app/index.php": "<?php echo 'revision two';\n",
            "app/legacy/old.php": nil,
            "app/about.php": "<?php echo 'About';\n",
        ])

        let prepared = try setup.deployer.deploy(second, sequence: 2, source: setup.repo.source)
        let two = prepared.revision.folderName

        #expect(prepared.base?.folderName == one)
        #expect(prepared.entriesSent == 3, "index.php, about.php and REVISION")
        #expect(try setup.inode("revisions/\(two)/style.css") == setup.inode("revisions/\(one)/style.css"))
        #expect(try setup.inode("revisions/\(two)/lib/util.php") == setup.inode("revisions/\(one)/lib/util.php"))
        #expect(try setup.inode("revisions/\(two)/index.php") != setup.inode("revisions/\(one)/index.php"))
        #expect(try setup.read("revisions/\(one)/index.php") == "<?php echo 'revision one';\n")
        #expect(try setup.read("revisions/\(one)/REVISION") == first.hex + "\n")
        #expect(!FileManager.default.fileExists(atPath: setup.app + "/revisions/\(two)/legacy"))
        let reference = try setup.repo.archive(second, into: setup.folder.path + "/ref")
        try sh("cp \(q(setup.app + "/current/REVISION")) \(q(reference))")
        #expect(try differences(reference, setup.app + "/revisions/\(two)") == "")
        #expect(try sh("readlink \(q(setup.app + "/current"))") == "revisions/\(two)")

        let again = try setup.deployer.prepare(commit: second, sequence: 2, tree: setup.repo.source)
        #expect(again.alreadyPresent, "a repeated prepare job sends nothing")
    }

    @Test("prune keeps the newest N, the live revision and the protected one")
    func prune() throws {
        let setup = try Setup("prune")
        defer { setup.folder.remove() }
        var revisions: [DeployRevision] = []
        for sequence in 1...5 {
            let commit = try setup.repo.commit(["app/index.php": "<?php echo \(sequence);\n"])
            revisions.append(try setup.deployer.prepare(commit: commit, sequence: sequence, tree: setup.repo.source).revision)
        }
        try setup.deployer.switchTo(revision: revisions[1])

        let removed = try setup.deployer.prune(keep: 2, protecting: [revisions[0]])

        #expect(removed == [revisions[2]])
        #expect(try setup.listing("revisions") == [revisions[0], revisions[1], revisions[3], revisions[4]].map(\.folderName))
        #expect(try setup.deployer.current()?.revision == revisions[1])
        #expect(try setup.deployer.prune(keep: 1) == [revisions[0], revisions[3]])
        #expect(try setup.deployer.revisions().map(\.revision) == [revisions[1], revisions[4]])
    }

    @Test("an upload cut half way leaves current untouched and no revision folder but a temp one, removed by the next prepare")
    func cutUpload() throws {
        struct ConnectionLost: Error {}
        let setup = try Setup("cut")
        defer { setup.folder.remove() }
        let first = try setup.repo.commit(Self.firstTree)
        let one = try setup.deployer.deploy(first, sequence: 1, source: setup.repo.source).revision
        var files: [String: String?] = [:]
        for index in 0..<40 { files["app/pages/page\(index).php"] = "<?php echo \(index);\n" + String(repeating: "x", count: 4000) }
        let second = try setup.repo.commit(files)

        var cutSource = setup.repo.source
        let reads = Counter()
        let blob = cutSource.blob
        cutSource.blob = { id in
            guard reads.next() < 20 else { throw ConnectionLost() }
            return try blob(id)
        }
        // Once with the shell killed at the cut, once with a transport that just ends the input
        // there, as a dropped SSH channel may: the stream then stops at a file boundary.
        for transport in [LocalTransport(name: "web1"), EndsInputOnError(inner: LocalTransport(name: "web1"))] as [any HostTransport] {
            reads.reset()
            let deployer = try HostDeployer(transport: transport, app: "blog", root: setup.root)
            let error = #expect(throws: DeployError.self) {
                try deployer.withLock(reason: "deploy 2") { try deployer.prepare(commit: second, sequence: 2, tree: cutSource) }
            }
            #expect(error?.description.contains("web1: upload of revision 0002-") == true)
            #expect(try deployer.current() == HostRevision(revision: one, commit: first))
            #expect(try deployer.revisions().map(\.revision) == [one])
            #expect(try setup.listing("revisions") == [".incoming-0002-\(second.hex.prefix(12))", one.folderName])
        }

        let prepared = try setup.deployer.deploy(second, sequence: 2, source: setup.repo.source)
        #expect(try setup.listing("revisions") == [one.folderName, prepared.revision.folderName])
        #expect(try setup.read("current/pages/page39.php").hasPrefix("<?php echo 39;"))
    }

    @Test("a second deploy while the first holds the lock is refused, naming the host and the owner")
    func lockRefusesSecondDeploy() throws {
        let setup = try Setup("lock")
        defer { setup.folder.remove() }
        let commit = try setup.repo.commit(Self.firstTree)
        let held = try setup.deployer.lock(reason: "deploy 0001 to staging")
        let bob = try HostDeployer(transport: LocalTransport(name: "web1"), app: "blog", root: setup.root, actor: "bob")

        let error = #expect(throws: DeployError.self) { try bob.deploy(commit, sequence: 1, source: setup.repo.source) }
        let message = error?.description ?? ""
        #expect(message.contains("web1: app 'blog' is locked"))
        #expect(message.contains("alice (deploy 0001 to staging), process \(getpid())"))
        #expect(message.contains(setup.app + "/.devsys/lock"))
        #expect(throws: DeployError.self) { try bob.unlock(HostDeployer.DeployLock(owner: held.owner, line: "{}")) }

        try setup.deployer.unlock(held)
        try bob.deploy(commit, sequence: 1, source: setup.repo.source)
        #expect(try bob.current()?.commit == commit)
    }

    @Test("a stale lock of a dead controller process is broken and logged")
    func staleLockIsBroken() throws {
        let setup = try Setup("stale")
        defer { setup.folder.remove() }
        let dead = try ChildProcess("/bin/true", [])
        dead.wait()
        let owner = HostDeployer.LockOwner(
            actor: "carol",
            machine: HostDeployer.machineName,
            pid: dead.pid,
            reason: "deploy 9",
            since: "2020-01-01T00:00:00Z"
        )
        let line = String(decoding: try JSONEncoder().encode(owner), as: UTF8.self)
        try sh("mkdir -p \(q(setup.app + "/.devsys/lock")) && printf '%s\\n' \(q(line)) > \(q(setup.app + "/.devsys/lock/owner"))")
        // Fresh, it is respected even though its process is gone.
        #expect(throws: DeployError.self) { try setup.deployer.lock(reason: "deploy 1") }

        try sh("touch -d '2 hours ago' \(q(setup.app + "/.devsys/lock"))")
        let lock = try setup.deployer.lock(reason: "deploy 1")
        try setup.deployer.unlock(lock)
        #expect(try setup.read(".devsys/log").contains("\"action\":\"lock-broken\""))
    }

    @Test("app names and roots that could leave the host root are refused before any command")
    func refusesBadNames() throws {
        for app in ["", "..", "../etc", "a/b", ".hidden", "-rf", "blog app", "x;rm"] {
            #expect(throws: DeployError.self) { try HostDeployer(transport: LocalTransport(), app: app, root: "/srv/devsys") }
        }
        #expect(throws: DeployError.self) { try HostDeployer(transport: LocalTransport(), app: "blog", root: "/srv/../etc") }
        #expect(throws: DeployError.self) { try HostDeployer(transport: LocalTransport(), app: "blog", root: "/srv/a\nb") }
        #expect(DeployRevision(folderName: "0012-0123456789ab")?.sequence == 12)
        #expect(DeployRevision(folderName: "12345-0123456789ab")?.folderName == "12345-0123456789ab")
        for name in ["012-0123456789ab", "0001-0123456789AB", ".incoming-0001-0123456789ab", "0001-0123456789a"] {
            #expect(DeployRevision(folderName: name) == nil)
        }
    }
}

/// Counts calls across the closures of a source.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.withLock {
            defer { value += 1 }
            return value
        }
    }
    func reset() { lock.withLock { value = 0 } }
}

/// A transport that, when the input writer fails, ends the input cleanly instead of stopping
/// the command — what the remote side sees when a connection drops between two writes.
struct EndsInputOnError: HostTransport {
    let inner: any HostTransport
    var name: String { inner.name }

    func run(_ command: String, timeout: Duration?, writeInput: (((Data) throws -> Void) throws -> Void)?) throws -> RemoteResult {
        guard let writeInput else { return try inner.run(command, timeout: timeout, writeInput: nil) }
        var failure: Error?
        let result = try inner.run(command, timeout: timeout) { write in
            do { try writeInput(write) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }
}

/// A transport that silently loses the end of a tar stream: the `REVISION` entry and the end
/// blocks never arrive, and the rest ends cleanly at an entry boundary — a cut that `tar -x`
/// alone cannot tell from a whole archive.
struct LosesTarTail: HostTransport {
    let inner: any HostTransport
    var name: String { inner.name }

    func run(_ command: String, timeout: Duration?, writeInput: (((Data) throws -> Void) throws -> Void)?) throws -> RemoteResult {
        guard let writeInput, command.contains("tar -x") else { return try inner.run(command, timeout: timeout, writeInput: writeInput) }
        var stream = Data()
        try writeInput { stream.append($0) }
        var kept = Data()
        var offset = 0
        while offset + 512 <= stream.count {
            let header = stream.subdata(in: offset..<offset + 512)
            let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
            if name.isEmpty || name == "REVISION" { break }
            let sizeField = String(decoding: header.subdata(in: 124..<135), as: UTF8.self)
            let size = Int(sizeField, radix: 8) ?? 0
            let length = 512 + (size + 511) / 512 * 512
            kept.append(stream.subdata(in: offset..<offset + length))
            offset += length
        }
        return try inner.run(command, timeout: timeout) { write in try write(kept) }
    }
}

@Suite("Cut uploads")
struct CutUploadTests {
    @Test("a tar stream that ends cleanly before REVISION is not taken for a revision")
    func streamWithoutRevisionIsRefused() throws {
        let folder = try TempFolder("tail")
        defer { folder.remove() }
        let repo = try AppRepository(in: folder)
        let commit = try repo.commit(HostDeployerTests.firstTree)
        let deployer = try HostDeployer(transport: LosesTarTail(inner: LocalTransport(name: "web1")), app: "blog", root: folder.path + "/hosts")

        let error = #expect(throws: DeployError.self) { try deployer.prepare(commit: commit, sequence: 1, tree: repo.source) }

        #expect(error?.description.contains("web1: uploading 0001-") == true)
        #expect(error?.description.contains("upload incomplete") == true)
        #expect(try deployer.revisions().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: deployer.appFolder + "/revisions") == [".incoming-0001-\(commit.hex.prefix(12))"])
        #expect(FileManager.default.fileExists(atPath: deployer.appFolder + "/revisions/.incoming-0001-\(commit.hex.prefix(12))/index.php"))
    }
}
