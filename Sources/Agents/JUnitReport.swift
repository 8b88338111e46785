import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The JUnit XML devsys stores for a tested commit: one `<testsuites>` holding the suites the
/// commands wrote themselves (kept as they were) and devsys's own suite, named after the task,
/// with a testcase per command that wrote none and per skipped `http` check.
struct JUnitReport {
    enum Result {
        case passed
        /// The command ran and exited non-zero.
        case failure(message: String, details: String)
        /// The command could not finish: timed out, killed by a signal.
        case error(message: String, details: String)
        case skipped(message: String)
    }

    struct TestCase {
        var name: String
        var classname: String
        var time: Duration
        var result: Result
        var stdout: String?
        var stderr: String?
    }

    /// A `<testsuite>` element from a command's own JUnit file, with its tally.
    struct KeptSuite {
        var xml: String
        var tests = 0
        var failures = 0
        var errors = 0
        var skipped = 0
        var failing: [String] = []
    }

    var name: String
    var properties: [(String, String)]
    var cases: [TestCase] = []
    var kept: [KeptSuite] = []

    var tests: Int { cases.count + kept.reduce(0) { $0 + $1.tests } }
    var failures: Int { count { if case .failure = $0 { true } else { false } } + kept.reduce(0) { $0 + $1.failures } }
    var errors: Int { count { if case .error = $0 { true } else { false } } + kept.reduce(0) { $0 + $1.errors } }
    var skipped: Int { count { if case .skipped = $0 { true } else { false } } + kept.reduce(0) { $0 + $1.skipped } }

    /// Names of the failing and erring testcases, devsys's first.
    var failing: [String] {
        cases.filter { if case .failure = $0.result { true } else if case .error = $0.result { true } else { false } }.map(\.name)
            + kept.flatMap(\.failing)
    }

    private func count(_ predicate: (Result) -> Bool) -> Int { cases.filter { predicate($0.result) }.count }

    /// "3 tests, 1 failure: unit tests"; "4 tests (1 skipped), 0 failures".
    var summary: String {
        func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        var text = plural(tests, "test") + (skipped > 0 ? " (\(skipped) skipped)" : "") + ", " + plural(failures, "failure")
        if errors > 0 { text += ", " + plural(errors, "error") }
        let names = failing
        if !names.isEmpty {
            text += ": " + names.prefix(5).joined(separator: ", ") + (names.count > 5 ? " and \(names.count - 5) more" : "")
        }
        return text
    }

    func xml(duration: Duration, timestamp: Date) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"\(attr(name))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(Self.seconds(duration))\">\n"
        if !cases.isEmpty || kept.isEmpty {
            let own = JUnitReport(name: name, properties: properties, cases: cases, kept: [])
            let time = cases.reduce(Duration.zero) { $0 + $1.time }
            let stamp = ISO8601DateFormatter().string(from: timestamp)
            out +=
                "  <testsuite name=\"\(attr(name))\" tests=\"\(own.tests)\" failures=\"\(own.failures)\" errors=\"\(own.errors)\" skipped=\"\(own.skipped)\" time=\"\(Self.seconds(time))\" timestamp=\"\(stamp)\">\n"
            if !properties.isEmpty {
                out += "    <properties>\n"
                for (key, value) in properties { out += "      <property name=\"\(attr(key))\" value=\"\(attr(value))\"/>\n" }
                out += "    </properties>\n"
            }
            for testCase in cases { out += Self.xml(testCase) }
            out += "  </testsuite>\n"
        }
        for suite in kept { out += suite.xml + "\n" }
        return out + "</testsuites>\n"
    }

    private static func xml(_ testCase: TestCase) -> String {
        var out = "    <testcase name=\"\(attr(testCase.name))\" classname=\"\(attr(testCase.classname))\" time=\"\(seconds(testCase.time))\""
        var body = ""
        switch testCase.result {
        case .passed: break
        case .failure(let message, let details):
            body += "      <failure message=\"\(attr(message))\" type=\"exit\">\(XMLText.escape(details))</failure>\n"
        case .error(let message, let details):
            body += "      <error message=\"\(attr(message))\" type=\"stopped\">\(XMLText.escape(details))</error>\n"
        case .skipped(let message):
            body += "      <skipped message=\"\(attr(message))\"/>\n"
        }
        if let stdout = testCase.stdout, !stdout.isEmpty { body += "      <system-out>\(XMLText.escape(stdout))</system-out>\n" }
        if let stderr = testCase.stderr, !stderr.isEmpty { body += "      <system-err>\(XMLText.escape(stderr))</system-err>\n" }
        out += body.isEmpty ? "/>\n" : ">\n" + body + "    </testcase>\n"
        return out
    }

    private func attr(_ text: String) -> String { Self.attr(text) }
    private static func attr(_ text: String) -> String { XMLText.escape(text, attribute: true) }

    /// Seconds with millisecond precision, as JUnit's `time` attributes hold them.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return String(format: "%.3f", Double(milliseconds) / 1000)
    }

    // MARK: Reading the commands' own files

    /// The `<testsuite>` elements of a JUnit file (its root, or the children of a `<testsuites>`
    /// root) with their tallies, or why it cannot be kept.
    static func readSuites(_ data: Data) -> Swift.Result<[KeptSuite], JUnitProblem> {
        Swift.Result { () throws(JUnitProblem) in
            try JUnitDocument(data).suites.map { suite in
                KeptSuite(
                    xml: "  " + suite.xml,
                    tests: suite.cases.count,
                    failures: suite.cases.filter { $0.status == .failed }.count,
                    errors: suite.cases.filter { $0.status == .error }.count,
                    skipped: suite.cases.filter { $0.status == .skipped }.count,
                    failing: suite.cases.filter(\.isFailing).map(\.name)
                )
            }
        }
    }
}

/// Whether a document is well-formed. On Linux, XMLDocument recovers from broken markup and
/// XMLParser reports success for a document cut short, so the element nesting is checked here too.
final class WellFormedness: NSObject, XMLParserDelegate {
    private var depth = 0
    private var roots = 0
    private var error: String?

    static func problem(in data: Data) -> String? {
        let checker = WellFormedness()
        let parser = XMLParser(data: data)
        parser.delegate = checker
        let parsed = parser.parse()
        if let error = checker.error ?? (parsed ? nil : parser.parserError.map { "\($0)" } ?? "parse error") {
            return "line \(parser.lineNumber): \(error)"
        }
        if checker.depth != 0 { return "\(checker.depth) element(s) not closed at the end" }
        if checker.roots != 1 { return checker.roots == 0 ? "no root element" : "more than one root element" }
        return nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        if depth == 0 { roots += 1 }
        depth += 1
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        depth -= 1
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if error == nil { error = (parseError as NSError).localizedDescription }
    }
}
