import Agents
import ControlRepository
import Foundation
import Git
import Specs
import Store

#if canImport(FoundationXML)
import FoundationXML
#endif

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
