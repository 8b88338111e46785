import Foundation
import TestSupport
import Testing

@testable import Specs

/// `specs/task.schema.json` and devsys's own single-file checks say the same about each file:
/// someone who validates task.yaml with PyYAML + jsonschema gets devsys's verdict.
@Suite("JSON Schema agrees with devsys")
struct SchemaAgreementTests {
    /// (what it shows, the file, whether it is valid).
    static let examples: [(String, String, Bool)] = [
        ("the DESIGN example", Fixtures.taskYAML, true),
        ("a UTF-8 byte order mark first, as Windows editors save", "\u{FEFF}" + Fixtures.taskYAML, true),
        ("a byte order mark twice", "\u{FEFF}\u{FEFF}" + Fixtures.taskYAML, false),
        ("only required keys", Fixtures.spec(id: "002-login"), true),
        ("block scalars and quoting", Fixtures.spec(id: "003-x", extra: "story: |\n  Two\n  lines\ntags: ['yes', \"2024-01-01\"]\n"), true),
        ("whole number written 900.0", Fixtures.spec(id: "004-x", extra: "resource_requirements: { timeout_s: 900.0, cpus: 0.5 }\n"), true),
        ("review auto and deploy", Fixtures.spec(id: "005-x", extra: "review: auto\ndeploy: { env: production }\n"), true),
        ("http check with defaults", Fixtures.spec(id: "006-x").replacingOccurrences(of: "run: php tests/run.php", with: "http: { path: / }"), true),
        (
            "related tasks and artifacts",
            Fixtures.spec(id: "007-x", extra: "related_tasks: [001-a, 002-b-c]\nexpected_artifacts: [app/x.php, .htaccess]\n"), true
        ),
        ("empty story", Fixtures.spec(id: "008-x", extra: "story: ''\n"), true),
        ("misspelt key", Fixtures.taskYAML(replacingLine: 2, with: "titel: x"), false),
        ("bad id", Fixtures.taskYAML(replacingLine: 1, with: "id: 01-about"), false),
        ("id with a path in it", Fixtures.taskYAML(replacingLine: 1, with: "id: ../../etc"), false),
        ("id too long", Fixtures.taskYAML(replacingLine: 1, with: "id: 001-" + String(repeating: "a", count: 61)), false),
        ("unknown kind", Fixtures.taskYAML(replacingLine: 3, with: "kind: epic"), false),
        ("app is a number", Fixtures.taskYAML(replacingLine: 4, with: "app: 42"), false),
        ("title is yes", Fixtures.taskYAML(replacingLine: 2, with: "title: yes"), false),
        ("title is a date", Fixtures.taskYAML(replacingLine: 2, with: "title: 2024-01-01"), false),
        ("title too long", Fixtures.taskYAML(replacingLine: 2, with: "title: " + String(repeating: "é", count: 201)), false),
        ("empty acceptance", Fixtures.spec(id: "009-x").replacingOccurrences(of: "  - name: tests\n    run: php tests/run.php", with: "  []"), false),
        (
            "check with http and run",
            Fixtures.spec(id: "010-x", extra: "").replacingOccurrences(of: "    run: php", with: "    http: { path: /x }\n    run: php"), false
        ),
        ("check with neither", Fixtures.spec(id: "011-x").replacingOccurrences(of: "    run: php tests/run.php", with: ""), false),
        (
            "http path without slash",
            Fixtures.spec(id: "012-x").replacingOccurrences(of: "run: php tests/run.php", with: "http: { path: about.php }"), false
        ),
        (
            "status out of range",
            Fixtures.spec(id: "013-x").replacingOccurrences(of: "run: php tests/run.php", with: "http: { path: /, status: 999 }"), false
        ),
        ("timeout as text", Fixtures.spec(id: "014-x", extra: "resource_requirements: { timeout_s: '900' }\n"), false),
        ("timeout not whole", Fixtures.spec(id: "015-x", extra: "resource_requirements: { timeout_s: 900.5 }\n"), false),
        ("cpus zero", Fixtures.spec(id: "016-x", extra: "resource_requirements: { cpus: 0 }\n"), false),
        ("absolute artifact", Fixtures.spec(id: "017-x", extra: "expected_artifacts: [/etc/passwd]\n"), false),
        ("artifact with ..", Fixtures.spec(id: "018-x", extra: "expected_artifacts: [app/../../x]\n"), false),
        ("artifact with //", Fixtures.spec(id: "019-x", extra: "expected_artifacts: ['app//x']\n"), false),
        ("artifact with backslash", Fixtures.spec(id: "020-x", extra: "expected_artifacts: ['app\\x']\n"), false),
        ("bad related id", Fixtures.spec(id: "021-x", extra: "related_tasks: [Task-1]\n"), false),
        ("tags not a list", Fixtures.spec(id: "022-x", extra: "tags: frontend\n"), false),
        ("empty deploy", Fixtures.spec(id: "023-x", extra: "deploy: {}\n"), false),
        ("unknown key in retry_policy", Fixtures.spec(id: "024-x", extra: "retry_policy: { attempts: 3 }\n"), false),
        ("max_attempts zero", Fixtures.spec(id: "025-x", extra: "retry_policy: { max_attempts: 0 }\n"), false),
        ("story left empty", Fixtures.spec(id: "026-x", extra: "story:\n"), false),
        ("a list, not a mapping", "- id: 001-a\n", false),
        ("empty file", "", false),
        ("missing app", Fixtures.spec(id: "027-x").replacingOccurrences(of: "app: blog\n", with: ""), false),
    ]

    @Test("devsys and python3 (PyYAML + jsonschema, Draft 2020-12) give the same verdict on each example")
    func agreement() throws {
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("specs/task.schema.json")
        let documents = SchemaAgreementTests.examples.map(\.1)
        let pythonErrors = try PythonSchemaCheck.errors(for: documents, schema: schema)
        try #require(pythonErrors.count == documents.count)

        for ((name, text, expected), schemaErrors) in zip(SchemaAgreementTests.examples, pythonErrors) {
            let diagnostics = TaskSpec.parse(Fixtures.data(text), path: "specs/x/task.yaml").diagnostics.errors
            let devsysValid = diagnostics.isEmpty
            let schemaValid = schemaErrors.isEmpty
            #expect(devsysValid == expected, "\(name): devsys says \(diagnostics)")
            #expect(schemaValid == expected, "\(name): the schema says \(schemaErrors)")
        }
    }
}

/// Runs python3 with PyYAML and jsonschema over YAML documents and returns each one's schema errors.
enum PythonSchemaCheck {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let script = """
        import json, sys
        try:
            import yaml, jsonschema
        except ImportError as error:
            print("missing python module: %s" % error, file=sys.stderr)
            sys.exit(3)
        with open(sys.argv[1]) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        results = []
        for text in json.load(sys.stdin):
            try:
                data = yaml.load(text, Loader=loader)
                results.append([error.message for error in validator.iter_errors(data)])
            except yaml.YAMLError as error:
                results.append(["YAML: %s" % error])
        print(json.dumps(results))
        """

    static func errors(for documents: [String], schema: URL) throws -> [[String]] {
        let python: ChildProcess
        do {
            python = try ChildProcess(
                "/usr/bin/env",
                ["python3", "-c", script, schema.path],
                input: try JSONEncoder().encode(documents),
                output: .captured
            )
        } catch {
            throw Failure(description: "cannot run python3 (\(error)); install python3, python3-yaml and python3-jsonschema")
        }
        let result = python.wait()
        guard result.status == 0 else {
            throw Failure(
                description: "python3 failed (status \(result.status)): \(result.stderr)"
                    + " — this test needs python3 with the yaml and jsonschema modules (apt-get install python3-yaml python3-jsonschema)"
            )
        }
        let data = Data(result.stdout.utf8)
        return try JSONDecoder().decode([[String]].self, from: data)
    }
}
