import Agents
import ControlRepository
import Foundation
import Git
import Specs
import Store

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Rebuilds the task table from git alone (`devsys reindex`, DESIGN §4): the specs on the trunk,
/// the `task/<id>` branches, and the notes on their heads say where every task is.
///
/// For each spec on the trunk, in this order: no branch → `queued`; the head is on the trunk →
/// `merged`; a `Rejected-by:` line in the reviews note → `rejected`; a passing test report →
/// `review`; a failing one → `coding` again, or `failed` when the head's attempt used up
/// `max_attempts`; no report → `testing`. A branch whose spec is gone is `cancelled` (or `merged`
/// when it is on the trunk). The job each state waits for is enqueued, as the controller would
/// have, and the reconciler's position is set to the trunk read, so it does not start them again.
///
/// What git does not record comes back as git last saw it: a coding attempt that failed without
/// committing, and a `devsys task retry`, leave no trace on the branch.
public struct Reindexer: Sendable {
    public let repositoryPath: String
    public let store: Store
    /// Where the testing agent keeps report files, read when a head has no tests note.
    public let state: StateDirectory?

    public init(repositoryPath: String, store: Store, state: StateDirectory? = nil) {
        self.repositoryPath = repositoryPath
        self.store = store
        self.state = state
    }

    /// Replaces every task in the store with what git says, and returns the tasks by id.
    ///
    /// Jobs and events are history and stay; the enqueued jobs find their finished selves.
    /// - Throws: `ControlRepositoryError.noTrunk` when the repository has no trunk, `GitError` when
    ///   it cannot be read, `StoreError` when the store cannot be written (the task table is then
    ///   empty or complete, never half-written: run reindex again).
    @discardableResult
    public func reindex(now: Date = .now) throws -> [TaskRecord] {
        let repository = try Repository.open(at: repositoryPath)
        let control = ControlRepository(repository)
        let trunk = try control.trunkCommit()
        let (_, snapshots) = try control.specs(named: nil, at: trunk.commit)
        let previous = Dictionary(try store.tasks().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

        var derived: [DerivedTask] = []
        for snapshot in snapshots {
            derived.append(try derive(snapshot, in: repository, trunk: trunk, previous: previous[snapshot.id], now: now))
        }
        let specIDs = Set(snapshots.map(\.id))
        for branch in try repository.references(withPrefix: "refs/heads/task/") {
            let id = String(branch.name.dropFirst("refs/heads/task/".count))
            guard !specIDs.contains(id) else { continue }
            derived.append(try deriveOrphan(id: id, head: branch.target, in: repository, trunk: trunk, previous: previous[id], now: now))
        }
        derived.sort { $0.record.id < $1.record.id }

        try store.transaction { transaction in
            try transaction.deleteAllTasks()
            for task in derived {
                try transaction.upsertTask(task.record)
                try transaction.appendEvent(
                    taskID: task.record.id,
                    kind: "task.reindexed",
                    message: "\(task.record.state.rawValue), read from git at \(trunk.branch) \(trunk.commit.short): \(task.evidence)",
                    data: ["state": task.record.state.rawValue, "trunk": trunk.commit.hex],
                    at: now
                )
                if let job = task.job {
                    try transaction.enqueue(job.key, payload: job.payload, maxAttempts: job.maxAttempts, backoff: job.backoff, now: now)
                }
            }
            try transaction.setValue(trunk.commit.hex, forKey: Reconciler.positionKey, now: now)
        }
        return derived.map(\.record)
    }

    /// A task as git shows it, why, and the job its state waits for.
    struct DerivedTask {
        var record: TaskRecord
        var evidence: String
        var job: PendingJob?
    }

    struct PendingJob {
        var key: JobKey
        var payload = Data()
        var maxAttempts: Int
        var backoff = RetryBackoff.standard
    }

    // MARK: Steps

    /// The state of the task of one spec on the trunk.
    private func derive(
        _ snapshot: SpecSnapshot,
        in repository: Repository,
        trunk: (branch: String, commit: ObjectID),
        previous: TaskRecord?,
        now: Date
    ) throws -> DerivedTask {
        let branch = "refs/heads/task/\(snapshot.id)"
        let head = try repository.reference(named: branch)
        guard snapshot.isValid, let spec = snapshot.spec else {
            let problems = snapshot.diagnostics.filter { $0.severity == .error }
            let reason = "spec is invalid at \(trunk.commit.short): " + (problems.first.map(\.description) ?? "task.yaml does not parse")
            let record = TaskRecord(
                id: snapshot.id,
                state: .failed,
                app: snapshot.spec?.app ?? "",
                title: snapshot.spec?.title ?? snapshot.id,
                specCommit: trunk.commit.hex,
                specBlob: snapshot.taskFile?.hex ?? "",
                branchHead: head?.hex,
                attempt: 0,
                maxAttempts: 0,
                reason: reason,
                createdAt: previous?.createdAt ?? now,
                updatedAt: now
            )
            return DerivedTask(record: record, evidence: "the spec does not validate", job: nil)
        }
        var record = TaskRecord(
            id: spec.id,
            state: .queued,
            app: spec.app,
            title: spec.title,
            specCommit: trunk.commit.hex,
            specBlob: snapshot.taskFile?.hex ?? "",
            branchHead: head?.hex,
            attempt: 0,
            maxAttempts: spec.retryPolicy.maxAttempts,
            reason: nil,
            createdAt: previous?.createdAt ?? now,
            updatedAt: now
        )
        let maxCodingLeases = spec.retryPolicy.maxAttempts + Reconciler.crashAllowance

        guard let head else {
            let job = PendingJob(
                key: JobKey(taskID: spec.id, step: .coding, inputCommit: trunk.commit.hex),
                payload: CodingPayload(feedback: nil).encoded(),
                maxAttempts: maxCodingLeases,
                backoff: spec.retryPolicy.backoff
            )
            return DerivedTask(record: record, evidence: "no branch \(branch)", job: job)
        }
        record.attempt = try Self.attemptsUsed(on: head, taskID: spec.id, in: repository, trunk: trunk.commit)

        if try repository.isAncestor(head, of: trunk.commit) {
            record.state = .merged
            record.reason = "merged into \(trunk.branch): \(head.short) is on it"
            return DerivedTask(record: record, evidence: "task/\(spec.id) at \(head.short) is part of \(trunk.branch)", job: nil)
        }
        let verdicts = (try repository.note(on: head, notesRef: Reviews.notesRef) ?? "").split(separator: "\n").map(String.init)
        if let rejection = verdicts.last(where: { $0.hasPrefix("Rejected-by:") }) {
            record.state = .rejected
            record.reason = Self.rejectionReason(rejection)
            return DerivedTask(record: record, evidence: "the reviews note on \(head.short) says \(rejection)", job: nil)
        }
        guard let report = try? StoredTestReport.latest(for: head, in: repository, reportsFolder: state?.reportsFolder(taskID: spec.id)) else {
            record.state = .testing
            let job = PendingJob(key: JobKey(taskID: spec.id, step: .testing, inputCommit: head.hex), maxAttempts: Reconciler.crashAllowance + 1)
            return DerivedTask(record: record, evidence: "\(head.short) has no test report", job: job)
        }
        if report.passed {
            record.state = .review
            var job: PendingJob?
            if spec.review == .auto {
                job = PendingJob(key: JobKey(taskID: spec.id, step: .merge, inputCommit: head.hex), maxAttempts: Reconciler.crashAllowance + 1)
            }
            return DerivedTask(record: record, evidence: "the tests passed on \(head.short): \(report.summary)", job: job)
        }
        if record.attempt >= record.maxAttempts {
            record.state = .failed
            record.reason = "tests failed on attempt \(record.attempt) of \(record.maxAttempts): \(report.summary)"
            return DerivedTask(record: record, evidence: "the tests failed on \(head.short), the last attempt", job: nil)
        }
        record.state = .coding
        record.reason = "tests failed on \(head.short): \(report.summary)"
        let job = PendingJob(
            key: JobKey(taskID: spec.id, step: .coding, inputCommit: head.hex),
            payload: CodingPayload(feedback: report.feedback).encoded(),
            maxAttempts: maxCodingLeases,
            backoff: spec.retryPolicy.backoff
        )
        return DerivedTask(
            record: record,
            evidence: "the tests failed on \(head.short), attempt \(record.attempt) of \(record.maxAttempts)",
            job: job
        )
    }

    /// A `task/<id>` branch whose spec is no longer on the trunk: `merged` when the trunk has it,
    /// else `cancelled`. The title and app come from the spec as the branch has it.
    private func deriveOrphan(
        id: String,
        head: ObjectID,
        in repository: Repository,
        trunk: (branch: String, commit: ObjectID),
        previous: TaskRecord?,
        now: Date
    ) throws -> DerivedTask {
        let taskPath = "specs/\(id)/task.yaml"
        let data = try? repository.file(at: taskPath, in: head)
        let spec = data.flatMap { TaskSpec.parse($0, path: taskPath).spec }
        let merged = try repository.isAncestor(head, of: trunk.commit)
        let record = TaskRecord(
            id: id,
            state: merged ? .merged : .cancelled,
            app: spec?.app ?? previous?.app ?? "",
            title: spec?.title ?? previous?.title ?? id,
            specCommit: try repository.mergeBase(head, trunk.commit)?.hex ?? head.hex,
            specBlob: data.map { Repository.hashBlob($0).hex } ?? "",
            branchHead: head.hex,
            attempt: try Self.attemptsUsed(on: head, taskID: id, in: repository, trunk: trunk.commit),
            maxAttempts: spec?.retryPolicy.maxAttempts ?? previous?.maxAttempts ?? 0,
            reason: merged ? "merged into \(trunk.branch): \(head.short) is on it" : "spec deleted from \(trunk.branch)",
            createdAt: previous?.createdAt ?? now,
            updatedAt: now
        )
        return DerivedTask(record: record, evidence: "\(taskPath) is not on \(trunk.branch); task/\(id) is at \(head.short)", job: nil)
    }

    /// The head's `Attempt:` trailer when it is this task's commit; otherwise how many of the
    /// branch's commits since it left the trunk carry `Task: <id>`.
    static func attemptsUsed(on head: ObjectID, taskID: String, in repository: Repository, trunk: ObjectID) throws -> Int {
        let tip = try repository.commit(head)
        if Trailers.value("Task", in: tip.message) == taskID, let attempt = Trailers.value("Attempt", in: tip.message).flatMap(Int.init) {
            return attempt
        }
        var count = 0
        for commit in try repository.log(from: head, limit: 1000) {
            if try repository.isAncestor(commit.id, of: trunk) { break }
            if Trailers.value("Task", in: commit.message) == taskID { count += 1 }
        }
        return count
    }

    /// `Rejected-by: NAME at TIME: REASON` → `rejected by NAME: REASON`, as `Reviews.reject` says it.
    static func rejectionReason(_ line: String) -> String {
        let rest = line.dropFirst("Rejected-by:".count).trimmingCharacters(in: .whitespaces)
        guard let at = rest.range(of: " at ") else { return "rejected by \(rest)" }
        let name = rest[..<at.lowerBound]
        let afterTime = rest[at.upperBound...].range(of: ": ").map { String(rest[$0.upperBound...]) } ?? ""
        return "rejected by \(name)" + (afterTime.isEmpty ? "" : ": \(afterTime)")
    }
}

// MARK: - Retry

/// Restarts a `failed` or `rejected` task (`devsys task retry`): back to `queued` with a fresh
/// round of `max_attempts`, and a coding job that starts from the branch head, with the reason
/// it ended as the agent's feedback.
///
/// Attempt numbers go on from the last one rather than from 1: the coding agent recognises a
/// commit it already made by its `Attempt:` trailer, so a reused number would skip the work.
public struct TaskRetry: Sendable {
    public let repositoryPath: String
    public let store: Store

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// - Returns: The task as it is now, and the coding job that will run.
    /// - Throws: `PipelineError.unknownTask`, `.wrongState` (not failed or rejected),
    ///   `.invalidSpec` (the spec is gone or broken on the trunk); `TaskRetryError` when every
    ///   coding job the task could start from has already run.
    @discardableResult
    public func retry(taskID: String, actor: String, now: Date = .now) throws -> (task: TaskRecord, job: Job) {
        guard let task = try store.task(id: taskID) else { throw PipelineError.unknownTask(taskID) }
        guard [.failed, .rejected].contains(task.state) else { throw PipelineError.wrongState(taskID, task.state, expected: "failed or rejected") }
        let context = try TaskContext.load(task: task, repositoryPath: repositoryPath)
        let head = try context.repository.reference(named: "refs/heads/task/\(taskID)")
        let lastAttempt = try head.map { try Reindexer.attemptsUsed(on: $0, taskID: taskID, in: context.repository, trunk: context.trunkCommit) } ?? 0
        let attempt = max(task.attempt, lastAttempt)
        let feedback = "A previous round of this task ended \(task.state.rawValue)" + (task.reason.map { ": \($0)" } ?? ".") + "\n"

        return try store.transaction { transaction in
            guard
                try transaction.transition(taskID: taskID, from: [task.state], to: .queued, reason: "retried by \(actor)", attempt: attempt, at: now)
            else {
                throw PipelineError.wrongState(taskID, task.state, expected: "failed or rejected (it moved meanwhile; try again)")
            }
            var record = task
            record.state = .queued
            record.attempt = attempt
            record.maxAttempts = attempt + context.spec.retryPolicy.maxAttempts
            record.branchHead = head?.hex ?? task.branchHead
            record.reason = "retried by \(actor)"
            record.updatedAt = now
            try transaction.upsertTask(record)
            let job = try startCoding(
                record,
                from: [head, context.trunkCommit].compactMap { $0 },
                feedback: feedback,
                spec: context.spec,
                in: transaction,
                now: now
            )
            return (record, job)
        }
    }

    /// The coding job keyed by the first of `candidates` that has none yet, or whose job died
    /// (requeued); job keys are unique, so a finished one cannot run again.
    private func startCoding(
        _ task: TaskRecord,
        from candidates: [ObjectID],
        feedback: String,
        spec: TaskSpec,
        in transaction: Store.Transaction,
        now: Date
    ) throws -> Job {
        for commit in candidates {
            let key = JobKey(taskID: task.id, step: .coding, inputCommit: commit.hex)
            let (job, created) = try transaction.enqueue(
                key,
                payload: CodingPayload(feedback: feedback).encoded(),
                maxAttempts: task.maxAttempts + Reconciler.crashAllowance,
                backoff: spec.retryPolicy.backoff,
                now: now
            )
            if created { return job }
            switch job.state {
            case .pending, .leased: return job
            case .dead: return try transaction.requeueDeadJob(id: job.id, now: now)
            case .done: continue
            }
        }
        throw TaskRetryError.nothingToStartFrom(task.id, candidates.map(\.short))
    }
}

public enum TaskRetryError: Error, CustomStringConvertible {
    case nothingToStartFrom(String, [String])

    public var description: String {
        switch self {
        case .nothingToStartFrom(let id, let commits):
            "task \(id) already ran coding from \(commits.joined(separator: " and ")); commit to the trunk or to task/\(id) (or change the spec) to start it again"
        }
    }
}

// MARK: - Stored test reports

/// A JUnit report the testing agent stored for a commit, read back: the note in
/// `refs/notes/devsys/tests`, or `<state>/tasks/<id>/reports/<commit>.xml`.
public struct StoredTestReport: Sendable, Equatable {
    public enum Source: String, Sendable, Codable {
        case note, file
    }

    public struct TestCase: Sendable, Equatable {
        public enum Status: String, Sendable, Codable {
            case passed, failed, error, skipped
        }

        public var suite: String
        public var classname: String
        public var name: String
        /// Seconds, when the report says.
        public var time: Double?
        public var status: Status
        /// The `message` of the failure, error or skipped element.
        public var message: String?
        /// The text of the failure or error element (the command's output).
        public var details: String?
    }

    public var commit: ObjectID
    public var source: Source
    /// The report as stored.
    public var xml: String
    public var tests: Int
    public var failures: Int
    public var errors: Int
    public var skipped: Int
    /// Seconds, when the report says.
    public var time: Double?
    public var testCases: [TestCase]

    public var passed: Bool { failures == 0 && errors == 0 }

    /// "3 tests (1 skipped), 0 failures"; "2 tests, 1 failure: unit tests", as the testing agent says it.
    public var summary: String {
        func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        var text = plural(tests, "test") + (skipped > 0 ? " (\(skipped) skipped)" : "") + ", " + plural(failures, "failure")
        if errors > 0 { text += ", " + plural(errors, "error") }
        let failing = testCases.filter { $0.status == .failed || $0.status == .error }.map(\.name)
        if !failing.isEmpty {
            text += ": " + failing.prefix(5).joined(separator: ", ") + (failing.count > 5 ? " and \(failing.count - 5) more" : "")
        }
        return text
    }

    /// What the coding agent reads after these tests failed.
    var feedback: String {
        var text = "The tests failed: \(summary)\n"
        for testCase in testCases where testCase.status == .failed || testCase.status == .error {
            text += "\n## \(testCase.name)" + (testCase.message.map { " — \($0)" } ?? "") + "\n"
            text += String((testCase.details ?? "").suffix(4000))
        }
        return text + "\nThe full JUnit report is in refs/notes/devsys/tests on the tested commit.\n"
    }

    /// Reads a JUnit document: counts from the root's `tests`/`failures`/`errors`/`skipped`
    /// attributes (tallied from the testcases when it has none), and every testcase.
    /// - Throws: `StoredTestReportError` when it is not JUnit XML.
    public init(xml: String, commit: ObjectID, source: Source) throws {
        self.commit = commit
        self.source = source
        self.xml = xml
        guard xml.drop(while: \.isWhitespace).hasPrefix("<") else {
            throw StoredTestReportError(commit: commit, source: source, problem: "it does not start with '<'")
        }
        let document: XMLDocument
        do {
            document = try XMLDocument(data: Data(xml.utf8), options: [])
        } catch {
            throw StoredTestReportError(commit: commit, source: source, problem: "it is not well-formed XML (\(error.localizedDescription))")
        }
        guard let root = document.rootElement(), root.name == "testsuites" || root.name == "testsuite" else {
            throw StoredTestReportError(commit: commit, source: source, problem: "its root element is not <testsuites> or <testsuite>")
        }
        var cases: [TestCase] = []
        Self.collect(root, suite: root.name == "testsuite" ? root.attribute(forName: "name")?.stringValue ?? "" : "", into: &cases)
        testCases = cases
        func count(_ name: String, _ status: TestCase.Status?) -> Int {
            if let value = root.attribute(forName: name)?.stringValue.flatMap(Int.init) { return value }
            return cases.filter { status == nil || $0.status == status }.count
        }
        tests = count("tests", nil)
        failures = count("failures", .failed)
        errors = count("errors", .error)
        skipped = count("skipped", .skipped)
        time = root.attribute(forName: "time")?.stringValue.flatMap(Double.init)
    }

    private static func collect(_ element: XMLElement, suite: String, into cases: inout [TestCase]) {
        for child in element.children ?? [] {
            guard let child = child as? XMLElement else { continue }
            switch child.name {
            case "testsuite":
                collect(child, suite: child.attribute(forName: "name")?.stringValue ?? suite, into: &cases)
            case "testcase":
                let outcomes = (child.children ?? []).compactMap { $0 as? XMLElement }
                let outcome =
                    outcomes.first { $0.name == "failure" } ?? outcomes.first { $0.name == "error" } ?? outcomes.first { $0.name == "skipped" }
                let status: TestCase.Status =
                    switch outcome?.name {
                    case "failure": .failed
                    case "error": .error
                    case "skipped": .skipped
                    default: .passed
                    }
                let details = outcome?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                cases.append(
                    TestCase(
                        suite: suite,
                        classname: child.attribute(forName: "classname")?.stringValue ?? "",
                        name: child.attribute(forName: "name")?.stringValue ?? "unnamed testcase",
                        time: child.attribute(forName: "time")?.stringValue.flatMap(Double.init),
                        status: status,
                        message: outcome?.attribute(forName: "message")?.stringValue,
                        details: status == .skipped ? nil : details
                    )
                )
            default:
                collect(child, suite: suite, into: &cases)
            }
        }
    }

    /// The report of `commit`: its tests note, else its file in `reportsFolder`; nil when neither exists.
    /// - Throws: `StoredTestReportError` when the one found is not JUnit XML; `GitError`.
    public static func latest(for commit: ObjectID, in repository: Repository, reportsFolder: URL?) throws -> StoredTestReport? {
        if let note = try repository.note(on: commit, notesRef: TestingAgent.notesRef) {
            return try StoredTestReport(xml: note, commit: commit, source: .note)
        }
        guard let file = reportsFolder?.appendingPathComponent("\(commit.hex).xml"), let data = FileManager.default.contents(atPath: file.path) else {
            return nil
        }
        return try StoredTestReport(xml: String(decoding: data, as: UTF8.self), commit: commit, source: .file)
    }
}

public struct StoredTestReportError: Error, CustomStringConvertible {
    public var commit: ObjectID
    public var source: StoredTestReport.Source
    public var problem: String

    public var description: String {
        let place = source == .note ? "the note on \(commit.short) in \(TestingAgent.notesRef)" : "the report file of \(commit.short)"
        return "\(place) is not a JUnit report: \(problem)"
    }
}

// MARK: - Trailers

/// The `Key: value` trailers of a commit message (the last paragraph, when every line of it is
/// one), as `git interpret-trailers --parse` reads them; the coding agent writes `Task:` and `Attempt:`.
enum Trailers {
    static func value(_ key: String, in message: String) -> String? {
        let paragraphs = message.split(separator: "\n", omittingEmptySubsequences: false)
            .split { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard paragraphs.count > 1, let last = paragraphs.last else { return nil }
        var found: String?
        for line in last {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return nil }
            if name.lowercased() == key.lowercased() { found = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return found
    }
}
