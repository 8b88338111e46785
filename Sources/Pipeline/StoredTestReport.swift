import Agents
import ControlRepository
import Foundation
import Git
import Specs
import Store

/// A JUnit report the testing agent stored for a commit, read back: the note in
/// `refs/notes/devsys/tests`, or `<state>/tasks/<id>/reports/<commit>.xml`.
public struct StoredTestReport: Sendable, Equatable {
    public enum Source: String, Sendable, Codable {
        case note, file
    }

    public typealias TestCase = JUnitDocument.TestCase

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
        let failing = testCases.filter(\.isFailing).map(\.name)
        if !failing.isEmpty {
            text += ": " + failing.prefix(5).joined(separator: ", ") + (failing.count > 5 ? " and \(failing.count - 5) more" : "")
        }
        return text
    }

    /// What the coding agent reads after these tests failed.
    var feedback: String {
        var text = "The tests failed: \(summary)\n"
        for testCase in testCases where testCase.isFailing {
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
        let document: JUnitDocument
        do {
            document = try JUnitDocument(Data(xml.utf8))
        } catch {
            throw StoredTestReportError(commit: commit, source: source, problem: error.message)
        }
        testCases = document.cases
        tests = document.count("tests", nil)
        failures = document.count("failures", .failed)
        errors = document.count("errors", .error)
        skipped = document.count("skipped", .skipped)
        time = document.declared["time"].flatMap(Double.init)
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
