import Deploy
import Foundation
import Git
import Hosts
import SSH
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Deploying an app over SSH (issue #4), against what a shell-script deployer does, on the same
/// sshd on loopback in the same run: a git repository whose `app/` holds 2,000 files (~20 MB of
/// random, incompressible content in nested folders).
///
/// 1. A full deploy to an empty host root: devsys (connect, lock, prepare, switch, unlock; with
///    and without the SSH connect) vs `tar -c | ssh tar -x`, `git archive | ssh tar -x`,
///    `rsync -a -e ssh` and `scp -r`, each into a fresh folder; then devsys and the tar pipe
///    again with the host root in tmpfs, where what is left is the transfer.
/// 2. A one-file change: devsys on an open session (incremental prepare + switch) vs `rsync -a`
///    of the changed work tree onto the previous copy.
/// 3. A rollback: `switchTo` an earlier revision on an open session vs `ssh host 'ln -sfn … &&
///    mv -T …'` with a fresh ssh per command.
///
/// The phases of devsys's figures go to stderr, to say what dominates them.
struct DeployBenchmark: Benchmark {
    let name = "deploy"
    var files = 2_000
    var switches = 10

    /// 100 files (~1 MB, one of them large).
    var quick: Self { Self(files: 100, switches: 2) }

    /// The app as a PHP team configures it: `shared: [storage/, .env]`, `build: []` (issue #10's
    /// goal: shared paths must not cost a round trip).
    static func deployer(_ transport: any HostTransport, root: String) throws -> HostDeployer {
        var deployer = try HostDeployer(transport: transport, app: "blog", root: root, actor: "bench")
        deployer.shared = ["storage/", ".env"]
        return deployer
    }

    func run(runs: Int, scratch: URL) throws -> [Comparison] {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/rsync") else {
            throw BenchmarkError("rsync is missing: apt-get install -y rsync")
        }
        // Key login only, as the tests' sshd; logging at the usual level, room for many connections.
        let server = try SSHDServer(
            folder: scratch.appendingPathComponent("sshd"),
            settings: ["LogLevel INFO", "MaxStartups 100", "PermitRootLogin prohibit-password"]
        )
        defer { server.stop() }
        let remote = scratch.appendingPathComponent("remote").path
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)

        // The app, and one commit per timed one-file change (plus one for the phase timing).
        let work = scratch.appendingPathComponent("work").path
        let app = try AppFixture(work: work, files: files, changes: runs + 1)
        try shell("git -C \(quote(work)) checkout -q \(app.base.hex)")
        let repository = try Repository.open(at: work)
        let source = AppSource(repository: repository, path: "app")
        let ssh = server.sshCommand
        let target = "\(server.user)@127.0.0.1"
        let megabytes = String(format: "%.1f MB", Double(app.bytes) / 1e6)
        log("deploy: app of \(files) files, \(megabytes), sshd on 127.0.0.1:\(server.port)")

        // 1. Full deploy into a fresh root each run; the tools take turns within each run, so
        // drift of this shared VM hits them alike.
        var index = 0
        func fresh(_ label: String, in base: String? = nil) -> String {
            index += 1
            return "\(base ?? remote)/\(label)-\(index)"
        }
        // Copies are kept until the end: on this VM's ext4, creating files within a minute of
        // deleting a 20 MB tree costs up to 25× more (tar -x of the app: 0.06 s → 1.5 s), which
        // would swamp every figure. `sync` so no run pays for the previous one's writeback.
        func settle() throws { try shell("sync") }
        func fullDeploy(_ deployer: HostDeployer) throws {
            let lock = try deployer.lock(reason: "bench full deploy")
            let prepared = try deployer.prepare(commit: app.base, sequence: 1, tree: source)
            try deployer.switchTo(revision: prepared.revision)
            try deployer.unlock(lock)
        }
        let open = SSHTransport(name: "bench", host: server.benchHost)
        defer { open.close() }
        try open.connect()
        let extract = "tar -x -f - -C"
        var full = Phases()
        for run in 0..<runs {
            var root = fresh("devsys-connect")
            try full.time("devsys, connecting") {
                let transport = SSHTransport(name: "bench", host: server.benchHost)
                defer { transport.close() }
                try fullDeploy(try Self.deployer(transport, root: root))
            }
            if run == 0 { try app.verify(copy: "\(root)/blog/current", revisionFile: true) }
            try settle()
            root = fresh("devsys-open")
            try full.time("devsys, open") { try fullDeploy(try Self.deployer(open, root: root)) }
            try settle()
            var folder = fresh("tar")
            try full.time("tar") {
                try shell("tar -C \(quote(work))/app -cf - . | \(ssh) \(target) \(quote("mkdir -p \(quote(folder)) && \(extract) \(quote(folder))"))")
            }
            if run == 0 { try app.verify(copy: folder, revisionFile: false) }
            try settle()
            folder = fresh("archive")
            try full.time("git archive") {
                try shell(
                    "git -C \(quote(work)) archive --format=tar \(app.base.hex):app | \(ssh) \(target) "
                        + quote("mkdir -p \(quote(folder)) && \(extract) \(quote(folder))")
                )
            }
            try settle()
            folder = fresh("rsync")
            try full.time("rsync") { try shell("rsync -a -e \(quote(ssh)) \(quote(work))/app/ \(target):\(quote(folder))/") }
            if run == 0 { try app.verify(copy: folder, revisionFile: false) }
            try settle()
            folder = fresh("scp")
            try full.time("scp") { try shell("\(server.scpCommand) -r \(quote(work))/app \(target):\(quote(folder))") }
            if run == 0 { try app.verify(copy: folder, revisionFile: false) }
            try settle()
        }

        // The same with the host root in tmpfs, where creating files costs little, so what is
        // left is the transfer and the process starts.
        let memory = "/dev/shm/devsys-bench-deploy-\(getpid())"
        try FileManager.default.createDirectory(atPath: memory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: memory) }
        var inMemory = Phases()
        for _ in 0..<runs {
            var root = fresh("devsys-connect", in: memory)
            try inMemory.time("devsys, connecting") {
                let transport = SSHTransport(name: "bench", host: server.benchHost)
                defer { transport.close() }
                try fullDeploy(try Self.deployer(transport, root: root))
            }
            root = fresh("devsys-open", in: memory)
            try inMemory.time("devsys, open") { try fullDeploy(try Self.deployer(open, root: root)) }
            let folder = fresh("tar", in: memory)
            try inMemory.time("tar") {
                try shell("tar -C \(quote(work))/app -cf - . | \(ssh) \(target) \(quote("mkdir -p \(quote(folder)) && \(extract) \(quote(folder))"))")
            }
            try settle()
        }

        // The same deploy step by step, and what bounds each step, for the notes.
        var phases = Phases()
        let entries = try source.entries(app.base)
        let tarFile = "\(scratch.path)/app.tar"
        try shell("tar -C \(quote(work))/app -cf \(quote(tarFile)) .")
        for _ in 0..<runs {
            let root = fresh("devsys-phases")
            let deployer = try Self.deployer(open, root: root)
            let lock = try phases.time("full: lock") { try deployer.lock(reason: "bench phases") }
            let prepared = try phases.time("full: prepare") { try deployer.prepare(commit: app.base, sequence: 1, tree: source) }
            try phases.time("full: switch") { _ = try deployer.switchTo(revision: prepared.revision) }
            try phases.time("full: unlock") { try deployer.unlock(lock) }
            try settle()
            try phases.time("full: list the tree + build the tar in process, output dropped") {
                try TarStream.write(entries: try source.entries(app.base), blob: repository.blob) { _ in }
            }
            let payload = try phases.time("full: read the blobs only") { try entries.map { try repository.blob($0.id) } }
            try phases.time("full: \(megabytes) into `cat >/dev/null` on the open shell") {
                _ = try open.run("cat >/dev/null", timeout: .seconds(60)) { write in for data in payload { try write(data) } }
            }
            let folder = fresh("extract")
            try phases.time("full: `tar -x` of the app's tar file on the host itself, no network") {
                try shell("mkdir -p \(quote(folder)) && tar -x -f \(quote(tarFile)) -C \(quote(folder))")
            }
            try settle()
            try phases.time("full: `ssh host true`, a fresh connection") { try shell("\(ssh) \(target) true") }
            try phases.time("full: `tar -c | ssh host cat >/dev/null`") {
                try shell("tar -C \(quote(work))/app -cf - . | \(ssh) \(target) 'cat >/dev/null'")
            }
            try phases.time("round trip of `true` on the open shell") { _ = try open.run("true", timeout: .seconds(10)) }
        }

        // 2. One-file changes: devsys on the open session onto its previous revision, then rsync
        // of the work tree checked out at the same commit onto its previous copy.
        let incrementalRoot = "\(remote)/incremental"
        let deployer = try Self.deployer(open, root: incrementalRoot)
        let first = try deployer.prepare(commit: app.base, sequence: 1, tree: source)
        try deployer.switchTo(revision: first.revision)
        let rsyncCopy = "\(remote)/rsync-incremental"
        try shell("git -C \(quote(work)) checkout -q \(app.base.hex)")
        try shell("rsync -a -e \(quote(ssh)) \(quote(work))/app/ \(target):\(quote(rsyncCopy))/")
        try shell("sync")
        var incremental = Phases()
        for change in 0..<runs {
            let prepared = try incremental.time("devsys") {
                let prepared = try deployer.prepare(commit: app.changes[change], sequence: change + 2, tree: source)
                try deployer.switchTo(revision: prepared.revision)
                return prepared
            }
            guard prepared.entriesSent == 2 else { throw BenchmarkError("an incremental deploy sent \(prepared.entriesSent) entries, not 2") }
            try shell("git -C \(quote(work)) checkout -q \(app.changes[change].hex)")
            try incremental.time("rsync") { try shell("rsync -a -e \(quote(ssh)) \(quote(work))/app/ \(target):\(quote(rsyncCopy))/") }
            try shell("sync")
        }
        try app.verify(copy: "\(incrementalRoot)/blog/current", revisionFile: true, at: app.changes[runs - 1])
        try app.verify(copy: rsyncCopy, revisionFile: false, at: app.changes[runs - 1])
        let lock = try phases.time("one-file: lock") { try deployer.lock(reason: "bench phases") }
        let prepared = try phases.time("one-file: prepare (incremental)") {
            try deployer.prepare(commit: app.changes[runs], sequence: runs + 2, tree: source)
        }
        try phases.time("one-file: switch") { _ = try deployer.switchTo(revision: prepared.revision) }
        try phases.time("one-file: unlock") { try deployer.unlock(lock) }
        let appFolder = "\(incrementalRoot)/blog"
        let base = "\(appFolder)/revisions/\(first.revision.folderName)"
        for _ in 0..<runs {
            let folder = fresh("cp-al")
            try phases.time("one-file: `cp -al` of a revision on the open shell") {
                _ = try open.run("cp -al \(quote(base)) \(quote(folder))", timeout: .seconds(60))
            }
            try phases.time("one-file: `find -type d -empty` over a revision on the open shell") {
                _ = try open.run("cd \(quote(base)) && find . -mindepth 1 -type d -empty >/dev/null", timeout: .seconds(60))
            }
            try phases.time("one-file: inventory (list the revisions, \(runs + 2) of them)") { _ = try deployer.revisions() }
            try phases.time("one-file: list both trees in process") {
                _ = try source.entries(app.changes[0])
                _ = try source.entries(app.base)
            }
        }

        // 3. Rollback: back and forth between the first and the live revision.
        let live = prepared.revision
        var rollback = Phases()
        for _ in 0..<runs {
            try rollback.time("devsys") {
                for step in 0..<switches { try deployer.switchTo(revision: step % 2 == 0 ? first.revision : live) }
            }
            try rollback.time("ssh") {
                for step in 0..<switches {
                    let name = "revisions/" + (step % 2 == 0 ? first.revision : live).folderName
                    try shell("\(ssh) \(target) \(quote("cd \(quote(appFolder)) && ln -sfn \(name) current.new && mv -T current.new current"))")
                }
            }
        }
        guard try deployer.current()?.revision == live else { throw BenchmarkError("the rollback runs did not end on \(live)") }

        full.report(prefix: "full deploy")
        inMemory.report(prefix: "full deploy, tmpfs root")
        incremental.report(prefix: "one-file change")
        phases.report(prefix: "phase")
        let fullWithConnect = full.median("devsys, connecting")
        let fullOpen = full.median("devsys, open")
        let tarPipe = full.median("tar")
        let gitArchive = full.median("git archive")
        let rsyncFull = full.median("rsync")
        let scp = full.median("scp")
        let oneFile = incremental.median("devsys")
        let rsyncOneFile = incremental.median("rsync")
        let switchOpen = rollback.median("devsys") / Double(switches)
        let switchSSH = rollback.median("ssh") / Double(switches)

        let what = "\(files.formatted()) files, \(megabytes)"
        let fullGoal = "devsys ≤ 1.1× the tar pipe"
        let fullMet = fullWithConnect <= 1.1 * min(tarPipe, gitArchive)
        return [
            Comparison(
                name: "full deploy of \(what) to an empty root over SSH, incl. the SSH connect (connect + lock + prepare + switch + unlock)",
                unit: "deploy",
                operations: 1,
                devsys: fullWithConnect,
                alternative: "`tar -c | ssh tar -x` into a fresh folder",
                alternativeSeconds: tarPipe,
                goal: fullGoal,
                met: fullWithConnect <= 1.1 * tarPipe
            ),
            Comparison(
                name: "the same",
                unit: "deploy",
                operations: 1,
                devsys: fullWithConnect,
                alternative: "`git archive | ssh tar -x` into a fresh folder",
                alternativeSeconds: gitArchive,
                goal: fullGoal,
                met: fullWithConnect <= 1.1 * gitArchive
            ),
            Comparison(
                name: "the same",
                unit: "deploy",
                operations: 1,
                devsys: fullWithConnect,
                alternative: "`rsync -a -e ssh` into a fresh folder",
                alternativeSeconds: rsyncFull,
                goal: fullGoal + " (rows above)",
                met: fullMet
            ),
            Comparison(
                name: "the same",
                unit: "deploy",
                operations: 1,
                devsys: fullWithConnect,
                alternative: "`scp -r` (SFTP) into a fresh folder",
                alternativeSeconds: scp,
                goal: fullGoal + " (rows above)",
                met: fullMet
            ),
            Comparison(
                name: "full deploy of \(what), SSH session already open (lock + prepare + switch + unlock)",
                unit: "deploy",
                operations: 1,
                devsys: fullOpen,
                alternative: "`tar -c | ssh tar -x` (connects each time)",
                alternativeSeconds: tarPipe,
                goal: fullGoal,
                met: fullOpen <= 1.1 * tarPipe
            ),
            Comparison(
                name: "full deploy of \(what), host root on tmpfs, incl. the SSH connect",
                unit: "deploy",
                operations: 1,
                devsys: inMemory.median("devsys, connecting"),
                alternative: "`tar -c | ssh tar -x` into a fresh folder on tmpfs",
                alternativeSeconds: inMemory.median("tar"),
                goal: fullGoal,
                met: inMemory.median("devsys, connecting") <= 1.1 * inMemory.median("tar")
            ),
            Comparison(
                name: "full deploy of \(what), host root on tmpfs, SSH session already open",
                unit: "deploy",
                operations: 1,
                devsys: inMemory.median("devsys, open"),
                alternative: "`tar -c | ssh tar -x` (connects each time)",
                alternativeSeconds: inMemory.median("tar"),
                goal: fullGoal,
                met: inMemory.median("devsys, open") <= 1.1 * inMemory.median("tar")
            ),
            Comparison(
                name: "one-file change on that app, session open (incremental prepare + switch)",
                unit: "deploy",
                operations: 1,
                devsys: oneFile,
                alternative: "`rsync -a -e ssh` of the changed tree onto the previous copy",
                alternativeSeconds: rsyncOneFile,
                goal: "≤ 0.25× rsync and ≤ 60 ms",
                met: oneFile <= 0.25 * rsyncOneFile && oneFile <= 0.060
            ),
            Comparison(
                name: "rollback: `switchTo` an earlier revision on an open session (\(switches) switches back and forth)",
                unit: "switch",
                operations: 1,
                devsys: switchOpen,
                alternative: "`ssh host 'ln -sfn … && mv -T …'`, a fresh ssh per switch",
                alternativeSeconds: switchSSH,
                goal: "≤ 30 ms per host",
                met: switchOpen <= 0.030
            ),
        ]
    }
}

// MARK: - The app

/// A git work tree whose `app/` holds `files` random files in nested folders (mostly small, a
/// few large), committed, then `changes` more commits that each rewrite one small file.
private struct AppFixture {
    let work: String
    let base: ObjectID
    let changes: [ObjectID]
    let bytes: Int

    init(work: String, files: Int, changes count: Int) throws {
        self.work = work
        var random = SplitMix64(seed: 0x5eed_de91_0a11)
        try shell("git init -q -b main \(quote(work))")
        var total = 0
        for index in 0..<files {
            let data = random.bytes(Self.size(of: index, &random))
            total += data.count
            try Self.write(data, to: "\(work)/\(Self.path(of: index))")
        }
        bytes = total
        let commit = "git -C \(quote(work)) -c user.name=bench -c user.email=bench@localhost commit -q"
        try shell("git -C \(quote(work)) add -A && \(commit) -m app")
        base = try Self.head(work)
        var changes: [ObjectID] = []
        for change in 0..<count {
            // Index ≡ 3 (mod 10): always one of the small files.
            let path = Self.path(of: (10 * change + 3) % files)
            try Self.write(random.bytes(512 + Int(random.next() % 4608)), to: "\(work)/\(path)")
            try shell("\(commit) -a -m \(quote("change \(path)"))")
            changes.append(try Self.head(work))
        }
        self.changes = changes
    }

    /// `app/dNN/sN/fNNNN.ext`, some one level up: 20 folders of 5, ~20 files each.
    static func path(of index: Int) -> String {
        let extensions = ["php", "css", "js", "png", "html"]
        let name = String(format: "f%04d.", index) + extensions[index % extensions.count]
        let folder = String(format: "app/d%02d", index % 20)
        return index % 7 == 0 ? "\(folder)/\(name)" : "\(folder)/s\((index / 20) % 5)/\(name)"
    }

    /// Every 100th file ~400 KB, every 10th ~40 KB, the rest 0.5–5 KB: ~20 MB for 2,000 files.
    static func size(of index: Int, _ random: inout SplitMix64) -> Int {
        if index % 100 == 0 { return 380_000 + Int(random.next() % 40_000) }
        if index % 10 == 0 { return 36_000 + Int(random.next() % 8_000) }
        return 512 + Int(random.next() % 4608)
    }

    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    static func head(_ work: String) throws -> ObjectID {
        let hex = try shell("git -C \(quote(work)) rev-parse HEAD", capture: true)
        guard let id = ObjectID(hex: String(decoding: hex, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchmarkError("git rev-parse HEAD printed no commit id")
        }
        return id
    }

    /// Checks that `copy` holds exactly the app's files at `commit` (the base by default), with
    /// the same contents, plus a `REVISION` file when `revisionFile`. Leaves the base checked out.
    func verify(copy: String, revisionFile: Bool, at commit: ObjectID? = nil) throws {
        try shell("git -C \(quote(work)) checkout -q \((commit ?? base).hex)")
        if revisionFile { try shell("test -f \(quote(copy))/REVISION") }
        try shell("diff -r -q -x REVISION -x storage -x .env \(quote(work))/app \(quote(copy))")
        try shell("git -C \(quote(work)) checkout -q \(base.hex)")
    }
}

/// A fixed-seed generator: the same app on every run, fast enough for 20 MB.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> Data {
        var data = Data(count: count)
        data.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < count {
                var word = next()
                let length = min(8, count - offset)
                withUnsafeBytes(of: &word) { buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: length) }
                offset += length
            }
        }
        return data
    }
}

// MARK: - Phases

/// Medians of named steps, for the notes on what dominates each figure.
private struct Phases {
    private var order: [String] = []
    private var samples: [String: [Double]] = [:]

    @discardableResult
    mutating func time<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        if samples[name] == nil { order.append(name) }
        samples[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return value
    }

    func median(_ name: String) -> Double { medianValue(samples[name] ?? []) }

    func report(prefix: String) {
        for name in order {
            let values = samples[name] ?? []
            let all = values.map { String(format: "%.1f", $0 * 1000) }.joined(separator: " ")
            log(String(format: "deploy %@: %8.1f ms  %@ (runs: %@)", prefix, median(name) * 1000, name, all))
        }
    }
}

private func medianValue(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

private func log(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

// MARK: - Running programs

/// Single-quotes `word` for `sh`.
private func quote(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Runs `command` with `/bin/sh -c` and returns its stdout when `capture`; throws with its stderr
/// when it exits non-zero. `ChildProcess`, not `Process`: with sshd a child of this process,
/// corelibs Foundation sometimes never reported a second child's exit.
@discardableResult
private func shell(_ command: String, capture: Bool = false) throws -> Data {
    let result = try ChildProcess("/bin/sh", ["-c", command], output: .captured).wait()
    guard result.status == 0 else {
        throw BenchmarkError("`\(command)` failed (status \(result.status)): \(result.stderr.suffix(2000))")
    }
    return capture ? Data(result.stdout.utf8) : Data()
}

// MARK: - sshd

extension SSHDServer {
    /// This server with the default timeouts a deploy uses.
    fileprivate var benchHost: SSHHost {
        SSHHost(address: "127.0.0.1", port: port, user: user, identityFile: userKey, knownHostsFile: knownHosts)
    }

    /// The OpenSSH client options every alternative uses: this key only, this known_hosts only, strict.
    private var clientOptions: String {
        "-F /dev/null -i \(quote(userKey)) -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=\(quote(knownHosts))"
            + " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o LogLevel=ERROR"
    }

    fileprivate var sshCommand: String { "ssh \(clientOptions) -p \(port)" }
    fileprivate var scpCommand: String { "scp \(clientOptions) -P \(port)" }
}
