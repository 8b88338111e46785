import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A JUnit XML document read back — the one reader for both the files a test command writes
/// (`$DEVSYS_JUNIT_DIR`, kept in the report) and the reports devsys stored (notes and files):
/// its suites, every testcase with its outcome, and the root's own counts when it has them.
public struct JUnitDocument: Sendable, Equatable {
    public struct TestCase: Sendable, Equatable {
        public enum Status: String, Sendable, Codable, Comparable {
            case passed, failed, error, skipped

            public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rawValue < rhs.rawValue }
        }

        /// The innermost `<testsuite>` it is in (its `name`).
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

        public var isFailing: Bool { status == .failed || status == .error }
    }

    /// A top-level `<testsuite>`: the root itself, or a child of a `<testsuites>` root.
    public struct Suite: Sendable, Equatable {
        /// The element as written, to keep in another document.
        public var xml: String
        /// Its testcases, nested suites included.
        public var cases: [TestCase]
    }

    public var suites: [Suite]
    /// The root's `tests`, `failures`, `errors`, `skipped` and `time` attributes, where present.
    public var declared: [String: String]

    /// Every testcase, in document order.
    public var cases: [TestCase] { suites.flatMap(\.cases) }

    /// The root's count `attribute` when it declares one, else the testcases with `status` (all, for nil).
    public func count(_ attribute: String, _ status: TestCase.Status?) -> Int {
        if let value = declared[attribute].flatMap(Int.init) { return value }
        return cases.filter { status == nil || $0.status == status }.count
    }

    /// Reads `data`.
    /// - Throws: ``JUnitProblem`` when it is not well-formed XML or its root is not
    ///   `<testsuites>` or `<testsuite>`.
    public init(_ data: Data) throws(JUnitProblem) {
        if let problem = WellFormedness.problem(in: data) { throw JUnitProblem(message: "it is not well-formed XML (\(problem))") }
        let document: XMLDocument
        do {
            document = try XMLDocument(data: data, options: [])
        } catch {
            throw JUnitProblem(message: "it is not well-formed XML (\(error.localizedDescription))")
        }
        guard let root = document.rootElement() else { throw JUnitProblem(message: "it has no root element") }
        let elements: [XMLElement]
        switch root.name {
        case "testsuites": elements = root.elements(forName: "testsuite")
        case "testsuite": elements = [root]
        default: throw JUnitProblem(message: "its root element is <\(root.name ?? "")>, not <testsuites> or <testsuite>")
        }
        suites = elements.map { element in
            var cases: [TestCase] = []
            Self.collect(element, suite: element.attribute(forName: "name")?.stringValue ?? "", into: &cases)
            return Suite(xml: element.xmlString, cases: cases)
        }
        var declared: [String: String] = [:]
        for name in ["tests", "failures", "errors", "skipped", "time"] {
            if let value = root.attribute(forName: name)?.stringValue { declared[name] = value }
        }
        self.declared = declared
    }

    /// The testcases below `element`, by what each holds: a `failure`, else an `error`, else
    /// `skipped`, else passed — never trusting a suite's own counts.
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
}

/// Why a document is not a JUnit report.
public struct JUnitProblem: Error, Sendable {
    public var message: String
}
