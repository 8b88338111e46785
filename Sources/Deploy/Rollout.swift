import Foundation
import Git
import Specs
import Synchronization

/// One app on one host of an environment: what a `Rollout` deploys to.
public struct RolloutTarget: Sendable {
    public var deployer: HostDeployer
    /// Where the host serves this app (`hosts.<name>.url`); nil: no HTTP verification possible.
    public var url: String?
    /// `apps.<app>.build`: run in the new revision on every host before any host switches.
    public var build: [String]
    /// `apps.<app>.release`.
    public var release: ProjectConfig.App.Release
    /// `hosts.<name>.php_error_log`: the lines it gains during verification are kept.
    public var phpErrorLog: String?

    public init(
        deployer: HostDeployer,
        url: String?,
        build: [String] = [],
        release: ProjectConfig.App.Release = .init(),
        phpErrorLog: String? = nil
    ) {
        self.deployer = deployer
        self.url = url
        self.build = build
        self.release = release
        self.phpErrorLog = phpErrorLog
    }

    /// "web1" or "web1/blog" when a host has several apps.
    public var label: String { deployer.host + "/" + deployer.app }
}

/// Deploys one commit to every host of an environment (DESIGN §5): lock all, prepare all (upload,
/// link `shared`), run `build`, `release.before_switch` and `release.once` (on one host), switch
/// all (each followed by `release.after_switch`), verify all. No host switches before every host
/// holds the complete, built revision; when one host fails verification (or a switch fails),
/// every host that switched goes back to what it served before — or, on a first deploy, to
/// serving nothing. Nothing here touches git: the caller tags, marks bad revisions and moves refs.
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
        /// The host was rolled back to `previousRevision` after a failure (with no previous
        /// revision: `current` was removed).
        public var rolledBack: Bool
        /// What the app's `build` and `release` commands printed here.
        public var commands: [HostDeployer.CommandsOutput] = []
        /// The lines `hosts.<name>.php_error_log` gained while the host was verified; nil when
        /// no log is configured (or it could not be read: see `note`).
        public var phpErrorLines: [String]?
    }

    public struct Result: Sendable, Codable, Hashable {
        public var commit: String
        public var hosts: [HostOutcome]
        /// Nil when every host serves the commit and passed verification.
        public var failure: String?
        /// Whose fault the failure is: only a regression marks the commit bad.
        public var failureKind: RevisionVerifier.FailureKind?
        public var succeeded: Bool { failure == nil }
        /// A failed first deploy: no host had a revision to go back to, so none serves one now.
        public var nothingToRollBackTo: Bool { !succeeded && hosts.allSatisfy { $0.previousRevision == nil } }
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

        // The app's commands in the new revisions; any failure stops the deploy before a switch.
        try runReleaseCommands(prepared, outcomes: &outcomes, progress: progress)

        // Switch everywhere; a failed switch undoes the switches made.
        var switched: [Int] = []
        for (index, target) in targets.enumerated() {
            do {
                if prepared[index].previous?.revision != prepared[index].revision {
                    try target.deployer.switchTo(revision: prepared[index].revision)
                }
                switched.append(index)
                progress("\(target.label): serving \(prepared[index].revision.folderName)")
                if !target.release.afterSwitch.isEmpty {
                    outcomes[index].commands.append(
                        try target.deployer.runCommands(target.release.afterSwitch, step: "after_switch", in: prepared[index].revision)
                    )
                    progress("\(target.label): after_switch done")
                }
            } catch {
                let failure = "\(target.label): switch failed: \(error)"
                progress(failure)
                rollBack(switched.contains(index) ? switched : switched + [index], prepared: prepared, outcomes: &outcomes, progress: progress)
                return Result(commit: commit.hex, hosts: outcomes, failure: failure, failureKind: .infrastructure)
            }
        }

        // Verify everywhere at once, reading what each host's PHP error log gains meanwhile.
        let verified = Self.concurrently(targets) { target -> Verified in verify(target) }
        var regressions: [String] = []
        var outages: [String] = []
        for (index, target) in targets.enumerated() {
            let result = verified[index]
            outcomes[index].verification = result.report
            outcomes[index].phpErrorLines = result.phpErrorLines
            if let problem = result.logProblem { outcomes[index].note = problem }
            if let report = result.report {
                progress("\(target.label): \(report.summary)")
                switch report.failureKind {
                case .regression: regressions.append("\(target.label): \(report.summary)")
                case .infrastructure: outages.append("\(target.label): \(report.summary)")
                case nil: break
                }
            } else {
                outcomes[index].note = "not verified: hosts.\(target.deployer.host).url is not set"
                progress("\(target.label): not verified (no url in devsys.yaml)")
            }
            if let lines = result.phpErrorLines, !lines.isEmpty {
                progress("\(target.label): the PHP error log gained \(lines.count) line(s) during verification")
            }
        }
        if !regressions.isEmpty || !outages.isEmpty {
            rollBack(switched, prepared: prepared, outcomes: &outcomes, progress: progress)
            if !regressions.isEmpty {
                return Result(
                    commit: commit.hex,
                    hosts: outcomes,
                    failure: "verification failed on " + (regressions + outages).joined(separator: "; "),
                    failureKind: .regression
                )
            }
            return Result(
                commit: commit.hex,
                hosts: outcomes,
                failure: "verification could not reach " + outages.joined(separator: "; "),
                failureKind: .infrastructure
            )
        }

        for (index, target) in targets.enumerated() {
            let protecting = prepared[index].previous.map { [$0.revision] } ?? []
            if let removed = try? target.deployer.prune(keep: keepRevisions, protecting: protecting), !removed.isEmpty {
                progress("\(target.label): pruned \(removed.map(\.folderName).joined(separator: ", "))")
            }
        }
        return Result(commit: commit.hex, hosts: outcomes, failure: nil, failureKind: nil)
    }

    /// `build` and `release.before_switch` on every host with a new revision (all at once), then
    /// `release.once` on the first such host of each app. A revision already on the host (a
    /// rollback, a repeated job) was built when it was uploaded: nothing runs for it. When a
    /// command fails, the new revisions are removed (so the next deploy builds them again) and
    /// the error is thrown: no host has switched.
    func runReleaseCommands(_ prepared: [PreparedStep], outcomes: inout [HostOutcome], progress: @escaping @Sendable (String) -> Void) throws {
        let targets = targets
        let fresh = targets.indices.filter { prepared[$0].upload?.alreadyPresent == false }
        var onceHosts: [String: Int] = [:]
        for index in fresh where !targets[index].release.once.isEmpty && onceHosts[targets[index].deployer.app] == nil {
            onceHosts[targets[index].deployer.app] = index
        }
        guard fresh.contains(where: { !targets[$0].build.isEmpty || !targets[$0].release.beforeSwitch.isEmpty }) || !onceHosts.isEmpty else {
            return
        }
        let runs = Self.parallelResults(fresh) { index -> [HostDeployer.CommandsOutput] in
            let target = targets[index]
            let revision = prepared[index].revision
            var outputs: [HostDeployer.CommandsOutput] = []
            for (step, commands) in [("build", target.build), ("before_switch", target.release.beforeSwitch)] where !commands.isEmpty {
                progress("\(target.label): \(step): \(commands.joined(separator: "; "))")
                // Builds (composer install) can take long: the upload's limit, not a command's.
                outputs.append(try target.deployer.runCommands(commands, step: step, in: revision, timeout: target.deployer.uploadTimeout))
            }
            return outputs
        }
        var failure: Error?
        for (position, index) in fresh.enumerated() {
            switch runs[position] {
            case .success(let outputs): outcomes[index].commands += outputs
            case .failure(let error): failure = failure ?? error
            }
        }
        if failure == nil {
            for (_, index) in onceHosts.sorted(by: { $0.value < $1.value }) {
                let target = targets[index]
                progress("\(target.label): once: \(target.release.once.joined(separator: "; "))")
                do {
                    outcomes[index].commands.append(
                        try target.deployer.runCommands(
                            target.release.once,
                            step: "once",
                            in: prepared[index].revision,
                            timeout: target.deployer.uploadTimeout
                        )
                    )
                } catch {
                    failure = error
                    break
                }
            }
        }
        guard let failure else { return }
        progress("release commands failed; no host switched: \(failure)")
        for index in fresh {
            try? targets[index].deployer.removeRevision(prepared[index].revision)
        }
        throw failure
    }

    /// What verifying one target gave.
    struct Verified: Sendable {
        var report: RevisionVerifier.Report?
        var phpErrorLines: [String]?
        var logProblem: String?
    }

    /// Verifies one target; with `php_error_log`, reads the log's size first and what it gained
    /// after, over the target's own transport.
    func verify(_ target: RolloutTarget) -> Verified {
        guard let url = target.url else { return Verified() }
        var offset: Int?
        var logProblem: String?
        if let log = target.phpErrorLog {
            do { offset = try target.deployer.fileSize(log) } catch { logProblem = "could not read \(log): \(error)" }
        }
        let report = verifier.verify(url: url, expectedCommit: commit, checks: checks)
        var lines: [String]?
        if let log = target.phpErrorLog, let offset {
            do { lines = try target.deployer.linesAdded(to: log, since: offset) } catch { logProblem = "could not read \(log): \(error)" }
        }
        return Verified(report: report, phpErrorLines: lines, logProblem: logProblem)
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

    /// Puts each switched host back on what it served before: the previous revision (followed by
    /// `release.after_switch` there), or no `current` at all on a first deploy.
    private func rollBack(_ switched: [Int], prepared: [PreparedStep], outcomes: inout [HostOutcome], progress: (String) -> Void) {
        for index in switched {
            let target = targets[index]
            guard let previous = prepared[index].previous else {
                do {
                    try target.deployer.removeCurrent()
                    outcomes[index].rolledBack = true
                    progress("\(target.label): nothing to roll back to; current removed, the host serves no revision")
                } catch {
                    progress("\(target.label): REMOVING current FAILED: \(error)")
                    outcomes[index].note = "removing current failed: \(error)"
                }
                continue
            }
            guard previous.revision != prepared[index].revision else { continue }
            do {
                try target.deployer.rollback(to: previous.revision)
                outcomes[index].rolledBack = true
                progress("\(target.label): rolled back to \(previous.revision.folderName)")
                if !target.release.afterSwitch.isEmpty {
                    outcomes[index].commands.append(
                        try target.deployer.runCommands(target.release.afterSwitch, step: "after_switch", in: previous.revision)
                    )
                }
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
        try parallelResults(elements, body).map { try $0.get() }
    }

    /// `parallel` for work that never throws.
    static func concurrently<Element: Sendable, Value: Sendable>(_ elements: [Element], _ body: @escaping @Sendable (Element) -> Value) -> [Value] {
        parallelResults(elements, body).map { try! $0.get() }
    }

    /// `parallel`, keeping each element's result or error.
    static func parallelResults<Element: Sendable, Value: Sendable>(
        _ elements: [Element],
        _ body: @escaping @Sendable (Element) throws -> Value
    ) -> [Swift.Result<Value, Error>] {
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
        return results.values.map { $0! }
    }
}

/// What each of `parallelResults`' threads returned, in the order of the elements.
private final class ResultsBox<Value: Sendable>: Sendable {
    private let results: Mutex<[Swift.Result<Value, Error>?]>

    init(count: Int) { results = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ result: Swift.Result<Value, Error>) {
        results.withLock { $0[index] = result }
    }

    var values: [Swift.Result<Value, Error>?] { results.withLock { $0 } }
}
