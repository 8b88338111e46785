import Actions
import ArgumentParser
import ControlRepository
import Foundation
import Git
import Pipeline
import Store

extension Devsys {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the test report of a task's branch head.",
            discussion: """
                The testing agent stores a JUnit XML report for every commit it tests, as a note in
                refs/notes/devsys/tests (git notes --ref=devsys/tests show task/<id>) and as a file
                in <state>/tasks/<id>/reports/. This reads the note first, then the file.

                  devsys report 001-about-page           each testcase: ok, FAIL or skipped
                  devsys report 001-about-page --junit   the JUnit XML as stored
                  devsys report 001-about-page --json    for scripts

                Exit status: 0 the report was shown (whether the tests passed or not), 1 no such
                task or no report yet.
                """
        )

        @OptionGroup var options: ControllerOptions

        @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
        var id: String

        @Flag(help: "Print the JUnit XML as stored.")
        var junit = false

        @Flag(help: "Print the report as JSON.")
        var json = false

        func validate() throws {
            if junit && json { throw ValidationError("use one of --junit and --json") }
        }

        func run() async throws {
            let (control, plane) = try options.openControlPlane()
            let report = try await plane.report(taskID: id, by: localPrincipal(control: control))
            if junit {
                print(report.xml, terminator: report.xml.hasSuffix("\n") ? "" : "\n")
            } else if json {
                try printJSON(ReportView(taskID: id, report: report))
            } else {
                print(Self.text(of: report, taskID: id), terminator: "")
            }
        }

        /// A line per testcase, and each failure's message and the end of its output.
        static func text(of report: StoredTestReport, taskID: String) -> String {
            var out = "task \(taskID) at \(shortHex(report.commit.hex)): \(report.passed ? "passed" : "FAILED") — \(report.summary)\n"
            var table = TextTable()
            for testCase in report.testCases {
                let status =
                    switch testCase.status {
                    case .passed: "ok"
                    case .failed: "FAIL"
                    case .error: "ERROR"
                    case .skipped: "skipped"
                    }
                let time = testCase.time.map { String(format: "%.3f s", $0) } ?? ""
                table.add(["  \(status)", testCase.name, time, testCase.status == .skipped ? testCase.message ?? "" : ""])
            }
            out += table.text
            for testCase in report.testCases where testCase.status == .failed || testCase.status == .error {
                out += "\n\(testCase.status == .failed ? "FAIL" : "ERROR") \(testCase.name)" + (testCase.message.map { ": \($0)" } ?? "") + "\n"
                if let details = testCase.details?.trimmingCharacters(in: .whitespacesAndNewlines), !details.isEmpty {
                    let lines = details.split(separator: "\n", omittingEmptySubsequences: false)
                    if lines.count > 40 { out += "    … \(lines.count - 40) earlier lines (devsys report \(taskID) --junit shows all)\n" }
                    for line in lines.suffix(40) { out += "    \(line)\n" }
                }
            }
            return out
        }
    }
}
