import Foundation
import Git
import Specs

/// One app on one host of an environment: what a `Rollout` deploys to.
public struct RolloutTarget: Sendable {
    public var deployer: HostDeployer
    /// Where the host serves this app (`hosts.<name>.url`); nil: no HTTP verification possible.
    public var url: String?

    public init(deployer: HostDeployer, url: String?) {
        self.deployer = deployer
        self.url = url
    }

    /// "web1" or "web1/blog" when a host has several apps.
    public var label: String { deployer.host + "/" + deployer.app }
}

/// Deploys one commit to every host of an environment (DESIGN §5): lock all, prepare all, switch
/// all, verify all. No host switches before every host holds the complete revision; when one host
/// fails verification (or a switch fails), every host that switched goes back to what it served
/// before. Nothing here touches git: the caller tags, marks bad revisions and moves refs.
public struct Rollout: Sendable {
    public var targets: [RolloutTarget]
    public var commit: ObjectID
    /// The sequence of the deploy tag this deploy will get: names new revision folders.
    public var sequence: Int
    /// The spec `http` acceptance checks of the tasks in this deploy.
    public var checks: [TaskSpec.HTTPProbe]
    public var keepRevisions: Int
    public var verifier: RevisionVerifier
    /// Opens the app's files for one host's upload; called once per host, on that host's thread
    /// (a libgit2 repository is not shared between threads).
    public var makeSource: @Sendable (_ app: String) throws -> AppSource

    public init(
        targets: [RolloutTarget],
        commit: ObjectID,
        sequence: Int,
        checks: [TaskSpec.HTTPProbe] = [],
        keepRevisions: Int = 5,
        verifier: RevisionVerifier = RevisionVerifier(),
        makeSource: @escaping @Sendable (_ app: String) throws -> AppSource
    ) {
        self.makeSource = makeSource
        self.targets = targets
        self.commit = commit
        self.sequence = sequence
        self.checks = checks
        self.keepRevisions = keepRevisions
        self.verifier = verifier
    }

    /// What happened on one target.
    public struct HostOutcome: Sendable, Codable, Hashable {
        public var host: String
        public var app: String
        /// The revision folder that serves `commit` (new, or one already on the host).
        public var revision: String
        /// What was live before; nil on a first deploy.
        public var previousRevision: String?
        public var previousCommit: String?
        /// The upload: entries and bytes sent, or nil when the revision was already there.
        public var entriesSent: Int?
        public var bytesSent: Int?
        public var incrementalFrom: String?
        public var verification: RevisionVerifier.Report?
        /// Set when verification was impossible (no url).
        public var note: String?
        /// The host was rolled back to `previousRevision` after a failure.
        public var rolledBack: Bool
    }

    public struct Result: Sendable, Codable, Hashable {
        public var commit: String
        public var hosts: [HostOutcome]
        /// Nil when every host serves the commit and passed verification.
        public var failure: String?
        public var succeeded: Bool { failure == nil }
    }

    /// Runs the rollout. Throws (with nothing switched) when a host cannot be locked or prepared;
    /// returns a failed `Result` (with every host rolled back) when a switch or a verification
    /// failed. `progress` gets one line per step and host.
    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) throws -> Result {
        let reason = "deploy \(commit.hex.prefix(12)) as sequence \(sequence)"
        var locks: [Int: HostDeployer.DeployLock] = [:]
        defer {
            for (index, lock) in locks { try? targets[index].deployer.unlock(lock) }
        }
        for (index, target) in targets.enumerated() {
            locks[index] = try target.deployer.lock(reason: reason)
        }

        // Prepare everywhere at once; any failure stops the deploy before a switch.
        let prepared = try Self.parallel(targets) { target in
            progress("\(target.label): preparing \(commit.hex.prefix(12))")
            return try prepare(target)
        }
        for (target, step) in zip(targets, prepared) {
            progress("\(target.label): \(step.summary)")
        }

        var outcomes = zip(targets, prepared).map { target, step in
            HostOutcome(
                host: target.deployer.host,
                app: target.deployer.app,
                revision: step.revision.folderName,
                previousRevision: step.previous?.revision.folderName,
                previousCommit: step.previous?.commit.hex,
                entriesSent: step.upload?.entriesSent,
                bytesSent: step.upload?.bytesSent,
                incrementalFrom: step.upload?.base?.folderName,
                verification: nil,
                note: nil,
                rolledBack: false
            )
        }

        // Switch everywhere; a failed switch undoes the switches made.
        var switched: [Int] = []
        for (index, target) in targets.enumerated() {
            do {
                if prepared[index].previous?.revision != prepared[index].revision {
                    try target.deployer.switchTo(revision: prepared[index].revision)
                }
                switched.append(index)
                progress("\(target.label): serving \(prepared[index].revision.folderName)")
            } catch {
                let failure = "\(target.label): switch failed: \(error)"
                rollBack(switched, prepared: prepared, outcomes: &outcomes, progress: progress)
                return Result(commit: commit.hex, hosts: outcomes, failure: failure)
            }
        }

        // Verify everywhere at once.
        let reports =
            (try? Self.parallel(targets) { target -> RevisionVerifier.Report? in
                guard let url = target.url else { return nil }
                return verifier.verify(url: url, expectedCommit: commit, checks: checks)
            }) ?? []
        var failures: [String] = []
        for (index, target) in targets.enumerated() {
            let report = index < reports.count ? reports[index] : nil
            outcomes[index].verification = report
            if let report {
                progress("\(target.label): \(report.summary)")
                if !report.passed { failures.append("\(target.label): \(report.summary)") }
            } else {
                outcomes[index].note = "not verified: hosts.\(target.deployer.host).url is not set"
                progress("\(target.label): not verified (no url in devsys.yaml)")
            }
        }
        if !failures.isEmpty {
            rollBack(switched, prepared: prepared, outcomes: &outcomes, progress: progress)
            return Result(commit: commit.hex, hosts: outcomes, failure: "verification failed on " + failures.joined(separator: "; "))
        }

        for (index, target) in targets.enumerated() {
            let protecting = prepared[index].previous.map { [$0.revision] } ?? []
            if let removed = try? target.deployer.prune(keep: keepRevisions, protecting: protecting), !removed.isEmpty {
                progress("\(target.label): pruned \(removed.map(\.folderName).joined(separator: ", "))")
            }
        }
        return Result(commit: commit.hex, hosts: outcomes, failure: nil)
    }

    /// What preparing one target gave: the revision to switch to and what was live.
    struct PreparedStep: Sendable {
        var revision: DeployRevision
        var previous: HostRevision?
        var upload: HostDeployer.PreparedRevision?

        var summary: String {
            guard let upload, !upload.alreadyPresent else { return "\(revision.folderName) already on the host" }
            let from = upload.base.map { "incremental from \($0.folderName)" } ?? "full"
            return "uploaded \(revision.folderName) (\(upload.entriesSent) entries, \(upload.bytesSent) bytes, \(from))"
        }
    }

    /// A revision already on the host with this commit is reused (a rollback, a repeated job):
    /// nothing is uploaded. Otherwise `<sequence>-<sha12>` is uploaded.
    func prepare(_ target: RolloutTarget) throws -> PreparedStep {
        let deployer = target.deployer
        let inventory = try deployer.inventory()
        let live = inventory.live
        if let live, live.commit == commit {
            return PreparedStep(revision: live.revision, previous: live, upload: nil)
        }
        if let present = inventory.revisions.last(where: { $0.commit == commit }) {
            return PreparedStep(revision: present.revision, previous: live, upload: nil)
        }
        let upload = try deployer.prepare(commit: commit, sequence: sequence, tree: makeSource(deployer.app), inventory: inventory)
        return PreparedStep(revision: upload.revision, previous: live, upload: upload)
    }

    private func rollBack(_ switched: [Int], prepared: [PreparedStep], outcomes: inout [HostOutcome], progress: (String) -> Void) {
        for index in switched {
            let target = targets[index]
            guard let previous = prepared[index].previous, previous.revision != prepared[index].revision else { continue }
            do {
                try target.deployer.rollback(to: previous.revision)
                outcomes[index].rolledBack = true
                progress("\(target.label): rolled back to \(previous.revision.folderName)")
            } catch {
                progress("\(target.label): ROLLBACK FAILED: \(error)")
                outcomes[index].note = "rollback to \(previous.revision.folderName) failed: \(error)"
            }
        }
    }

    /// Runs `body` for each element on threads of its own; returns the results in order, or
    /// throws the first error (by position) after all have ended.
    static func parallel<Element: Sendable, Value: Sendable>(
        _ elements: [Element],
        _ body: @escaping @Sendable (Element) throws -> Value
    ) throws -> [Value] {
        // One thread per host: the work waits on the network, not the CPU, so it must not be
        // limited to the number of cores as `concurrentPerform` would.
        let results = ResultsBox<Value>(count: elements.count)
        let group = DispatchGroup()
        for (index, element) in elements.enumerated() {
            group.enter()
            Thread.detachNewThread {
                results.set(index, Swift.Result { try body(element) })
                group.leave()
            }
        }
        group.wait()
        return try results.values.map { try $0!.get() }
    }
}

private final class ResultsBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Swift.Result<Value, Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Swift.Result<Value, Error>) {
        lock.withLock { results[index] = result }
    }

    var values: [Swift.Result<Value, Error>?] { lock.withLock { results } }
}
