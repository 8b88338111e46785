import ControlRepository
import Foundation
import Git
import Pipeline
import Store

/// A task as lists show it (`devsys tasks --json`, `GET /api/v1/tasks`).
public struct TaskSummary: Sendable, Encodable, Equatable {
    public var id: String
    public var state: String
    public var title: String
    public var app: String
    public var attempt: Int
    public var maxAttempts: Int
    public var branch: String
    public var branchHead: String?
    public var reason: String?
    public var specCommit: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(_ task: TaskRecord) {
        id = task.id
        state = task.state.rawValue
        title = task.title
        app = task.app
        attempt = task.attempt
        maxAttempts = task.maxAttempts
        branch = "task/\(task.id)"
        branchHead = task.branchHead
        reason = task.reason
        specCommit = task.specCommit
        createdAt = task.createdAt
        updatedAt = task.updatedAt
    }
}

/// The summary of a test report, as a task or a pull request shows it.
public struct TestsSummary: Sendable, Encodable, Equatable {
    public var commit: String
    public var source: String
    public var passed: Bool
    public var summary: String
    public var tests: Int
    public var failures: Int
    public var errors: Int
    public var skipped: Int

    public init(_ report: StoredTestReport) {
        commit = report.commit.hex
        source = report.source.rawValue
        passed = report.passed
        summary = report.summary
        tests = report.tests
        failures = report.failures
        errors = report.errors
        skipped = report.skipped
    }
}

/// An event as a task's history shows it.
public struct EventLine: Sendable, Encodable, Equatable {
    public var at: Date
    public var kind: String
    public var message: String
    public var data: [String: String]

    public init(_ event: Event) {
        at = event.at
        kind = event.kind
        message = event.message
        data = event.data
    }
}

/// One task's whole story (`devsys task show`, `GET /api/v1/tasks/{id}`): the store's record and
/// history, and what git says about its branch — the head now, how far ahead of the trunk, the
/// latest test report and the review verdicts.
public struct TaskDetail: Sendable, Encodable {
    /// The record, with the branch head git has now (it may have moved since the store saw it).
    public var task: TaskSummary
    public var trunk: String?
    public var head: String?
    public var commitsAheadOfTrunk: Int?
    public var tests: TestsSummary?
    /// Why the report could not be read.
    public var testsProblem: String?
    /// The lines of the reviews note on the head (`Approved-by: …`, `Rejected-by: …`).
    public var reviews: [String]
    public var approved: Bool
    /// Oldest first, at most the last 500.
    public var events: [EventLine]

    init(_ record: TaskRecord, control: ControlRepository, state: StateDirectory, store: Store) throws {
        let repository = control.repository
        let trunkCommit = try? control.trunkCommit()
        let head = try repository.reference(named: ControlRefs.taskBranch(record.id)) ?? record.branchHead.flatMap(ObjectID.init(hex:))
        var summary = TaskSummary(record)
        if let head { summary.branchHead = head.hex }
        task = summary
        trunk = trunkCommit?.branch
        self.head = head?.hex
        if let head, let trunkCommit {
            commitsAheadOfTrunk = try? Self.commits(on: head, notOn: trunkCommit.commit, in: repository)
        }
        reviews = []
        if let head {
            do {
                tests = try StoredTestReport.latest(for: head, in: repository, reportsFolder: state.reportsFolder(taskID: record.id)).map(
                    TestsSummary.init
                )
            } catch {
                testsProblem = "\(error)"
            }
            reviews = try repository.note(on: head, notesRef: Reviews.notesRef)?.split(separator: "\n").map(String.init) ?? []
        }
        approved = reviews.contains { $0.hasPrefix("Approved-by:") }
        events = try store.events(taskID: record.id, limit: 500).map(EventLine.init)
    }

    enum CodingKeys: String, CodingKey {
        case commitsAheadOfTrunk, tests, testsProblem, reviews, approved, events
    }

    /// The fields of a `TaskSummary`, then what git says.
    public func encode(to encoder: Encoder) throws {
        try task.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(commitsAheadOfTrunk, forKey: .commitsAheadOfTrunk)
        try container.encodeIfPresent(tests, forKey: .tests)
        try container.encodeIfPresent(testsProblem, forKey: .testsProblem)
        try container.encode(reviews, forKey: .reviews)
        try container.encode(approved, forKey: .approved)
        try container.encode(events, forKey: .events)
    }

    /// How many commits `head` has that `trunk` does not (like `git rev-list --count trunk..head`),
    /// counted down to their merge base (at most 1000).
    static func commits(on head: ObjectID, notOn trunk: ObjectID, in repository: Repository) throws -> Int {
        let base = try repository.mergeBase(head, trunk)
        var count = 0
        for commit in try repository.log(from: head, limit: 1000) {
            if commit.id == base { break }
            if try !repository.isAncestor(commit.id, of: trunk) { count += 1 }
        }
        return count
    }
}

/// A test report with its test cases (`devsys report --json`, `GET /api/v1/tasks/{id}/report`).
public struct ReportView: Sendable, Encodable {
    public struct TestCase: Sendable, Encodable {
        public var suite: String
        public var classname: String
        public var name: String
        public var status: String
        public var time: Double?
        public var message: String?
        public var details: String?
    }

    public var task: String
    public var commit: String
    public var source: String
    public var passed: Bool
    public var summary: String
    public var tests: Int
    public var failures: Int
    public var errors: Int
    public var skipped: Int
    public var time: Double?
    public var testCases: [TestCase]

    public init(taskID: String, report: StoredTestReport) {
        task = taskID
        commit = report.commit.hex
        source = report.source.rawValue
        passed = report.passed
        summary = report.summary
        tests = report.tests
        failures = report.failures
        errors = report.errors
        skipped = report.skipped
        time = report.time
        testCases = report.testCases.map {
            TestCase(
                suite: $0.suite,
                classname: $0.classname,
                name: $0.name,
                status: $0.status.rawValue,
                time: $0.time,
                message: $0.message,
                details: $0.details
            )
        }
    }
}
