import Foundation
import Testing

@testable import Specs

@Suite("task.yaml on its own")
struct TaskSpecTests {
    let path = "specs/001-about-page/task.yaml"

    func parse(_ text: String) -> (spec: TaskSpec?, diagnostics: [Diagnostic]) {
        TaskSpec.parse(Fixtures.data(text), path: path)
    }

    @Test("the example from DESIGN §3 reads back every value")
    func designExample() throws {
        let (spec, diagnostics) = parse(Fixtures.taskYAML)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let task = try #require(spec)
        #expect(task.id == "001-about-page")
        #expect(task.title == "Add an About page")
        #expect(task.kind == .feature)
        #expect(task.app == "blog")
        #expect(task.story == "As a reader I want an About page so that I know who writes the blog.")
        #expect(
            task.acceptance == [
                .init(name: "about page served", probe: .http(.init(path: "/about.php", status: 200, bodyContains: "About"))),
                .init(name: "unit tests", probe: .run("php tests/run.php")),
            ]
        )
        #expect(task.resources == .init(timeoutSeconds: 900, memoryMB: 1024, cpus: 1))
        #expect(task.tags == ["frontend"])
        #expect(task.relatedTasks == [])
        #expect(task.expectedArtifacts == ["app/about.php"])
        #expect(task.retryPolicy == .init(maxAttempts: 3, backoffSeconds: 10, maxBackoffSeconds: 600))
        #expect(task.agent.capabilities == ["php"])
        #expect(task.review == .required)
        #expect(task.deploy == .init(env: "staging"))
    }

    @Test("a UTF-8 byte order mark at the start is skipped: the spec reads the same, problems keep their lines and columns")
    func byteOrderMark() {
        let (spec, diagnostics) = parse("\u{FEFF}" + Fixtures.taskYAML)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(spec == parse(Fixtures.taskYAML).spec)
        let (_, typo) = parse("\u{FEFF}" + Fixtures.taskYAML(replacingLine: 3, with: "kind: featur"))
        #expect(typo.summary.first?.hasPrefix("3:7: 'kind' is 'featur'") == true, "\(typo.summary)")
        let (_, second) = parse("\u{FEFF}\u{FEFF}" + Fixtures.taskYAML)
        #expect(!second.isEmpty, "only one byte order mark, at the very start, is skipped")
    }

    @Test("only the required keys: the rest takes its documented default")
    func defaults() throws {
        let (spec, diagnostics) = parse(
            """
            id: 002-fix-typo
            title: Fix a typo
            kind: bugfix
            app: blog
            acceptance:
              - name: page
                http:
                  path: /
            """
        )
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let task = try #require(spec)
        #expect(task.story == "")
        #expect(task.acceptance == [.init(name: "page", probe: .http(.init(path: "/", status: 200, bodyContains: nil)))])
        #expect(task.resources == .init(timeoutSeconds: 900, memoryMB: 1024, cpus: 1))
        #expect(task.retryPolicy == .init(maxAttempts: 3, backoffSeconds: 10, maxBackoffSeconds: 600))
        #expect(task.tags.isEmpty && task.relatedTasks.isEmpty && task.expectedArtifacts.isEmpty && task.agent.capabilities.isEmpty)
        #expect(task.review == .required)
        #expect(task.deploy == nil)
    }

    @Test("a misspelt key is reported at the key with a did-you-mean")
    func unknownKey() {
        let (spec, diagnostics) = parse(Fixtures.taskYAML(replacingLine: 2, with: "titel: Add an About page"))
        #expect(spec == nil)
        #expect(diagnostics.errors.summary.contains("2:1: unknown key 'titel'; did you mean 'title'?"))
        #expect(diagnostics.errors.summary.contains("1:1: missing required key 'title'"))
        #expect(diagnostics.first?.description == "\(path):1:1: error: missing required key 'title'")
    }

    @Test("unknown keys inside sections name the section, and keys in the wrong place say where they belong")
    func nestedUnknownKeys() {
        let (_, diagnostics) = parse(
            Fixtures.taskYAML(replacingLine: 8, with: "    http: { path: /about.php, stauts: 200 }")
                + "timeout_s: 30\n"
        )
        #expect(diagnostics.errors.summary.contains("8:31: unknown key 'stauts' in acceptance[0].http; did you mean 'status'?"))
        #expect(diagnostics.errors.summary.contains("19:1: unknown key 'timeout_s'; it belongs under 'resource_requirements'"))
    }

    @Test("a bad id is reported at its value", arguments: ["01-about", "001_about", "001-About", "001-about-", "../../etc", "001--x"])
    func badID(id: String) {
        let (spec, diagnostics) = parse(Fixtures.taskYAML(replacingLine: 1, with: "id: '\(id)'"))
        #expect(spec == nil)
        #expect(diagnostics.errors.count == 1)
        #expect(diagnostics.errors.first?.line == 1 && diagnostics.errors.first?.column == 5)
        #expect(diagnostics.errors.first?.message.contains("is not a valid task id") == true)
    }

    @Test("an id over 64 characters is refused with its length")
    func longID() {
        let id = "001-" + String(repeating: "a", count: 61)
        let (_, diagnostics) = parse(Fixtures.taskYAML(replacingLine: 1, with: "id: \(id)"))
        #expect(diagnostics.errors.summary == ["1:5: id '\(id)' is 65 characters long; a task id has at most 64"])
    }

    @Test("absolute, '..', empty-segment and backslash paths are refused where they are written")
    func unsafePaths() {
        let (_, diagnostics) = parse(
            Fixtures.taskYAML(
                replacingLine: 14,
                with: #"expected_artifacts: [/etc/passwd, app/../../x, "app//a.php", 'app\..\x', ok/file.php]"#
            )
        )
        #expect(
            diagnostics.errors.summary == [
                "14:22: expected artifact '/etc/passwd' is absolute; write it relative to the repository root",
                "14:35: expected artifact 'app/../../x' contains '..'; it must stay inside the repository",
                "14:48: expected artifact 'app//a.php' has an empty segment ('//' or a trailing '/'); remove it",
                #"14:62: expected artifact 'app\..\x' contains a backslash; use '/' between folders"#,
            ]
        )
    }

    @Test("text where a number is expected, and a number where text is expected")
    func wrongTypes() {
        var text = Fixtures.taskYAML(replacingLine: 11, with: "resource_requirements: { timeout_s: fifteen, memory_mb: '1024', cpus: 1 }")
        text = text.replacingOccurrences(of: "title: Add an About page", with: "title: 2024-01-01")
        let (_, diagnostics) = parse(text)
        #expect(
            diagnostics.errors.summary == [
                "2:8: 'title' must be text, found a date (2024-01-01); put it in quotes: \"2024-01-01\"",
                "11:37: 'resource_requirements.timeout_s' must be a whole number, found text 'fifteen'",
                "11:57: 'resource_requirements.memory_mb' must be a whole number, found text '1024' (remove the quotes)",
            ]
        )
    }

    @Test("enums list the allowed values and suggest the nearest")
    func badEnum() {
        let (_, diagnostics) = parse(Fixtures.taskYAML(replacingLine: 3, with: "kind: featrue"))
        #expect(
            diagnostics.errors.summary == ["3:7: 'kind' is 'featrue'; it must be one of feature, bugfix, chore, followup; did you mean 'feature'?"]
        )
    }

    @Test("acceptance checks need exactly one of http and run, and at least one check")
    func acceptanceShape() {
        let both = parse(
            """
            id: 001-about-page
            title: t
            kind: chore
            app: blog
            acceptance:
              - name: both
                run: make test
                http: { path: /x }
              - name: neither
              - run: make
            """
        )
        #expect(
            both.diagnostics.errors.summary == [
                "8:5: acceptance[0] has both 'http' and 'run'; give each check exactly one of them",
                "9:5: acceptance[1] has no check; give it either 'http' (a request) or 'run' (a command)",
                "10:5: missing required key 'name' in acceptance[2]; give each check a short name",
            ]
        )
        let none = parse("id: 001-a\ntitle: t\nkind: chore\napp: blog\nacceptance: []\n")
        #expect(none.diagnostics.errors.summary == ["5:13: 'acceptance' is empty; add at least one check (an 'http' request or a 'run' command)"])
    }

    @Test("an empty file, a list instead of a mapping, and a lone scalar")
    func wrongShapes() {
        #expect(parse("").diagnostics.errors.summary == ["1:1: task.yaml is empty; it needs at least id, title, kind, app and acceptance"])
        #expect(parse("# only a comment\n\n").diagnostics.errors.count == 1)
        #expect(parse("- id: 001-a\n- title: x\n").diagnostics.errors.summary == ["1:1: the file must be a mapping of keys to values, found a list"])
        #expect(parse("just text").diagnostics.errors.summary == ["1:1: the file must be a mapping of keys to values, found text 'just text'"])
    }

    @Test("malformed YAML is reported at libyaml's line and column, in words")
    func malformedYAML() {
        let (spec, diagnostics) = parse("id: 001-a\ntitle: [unclosed\nkind: chore\n")
        #expect(spec == nil)
        let error = diagnostics.errors.first
        #expect(diagnostics.errors.count == 1)
        #expect(error?.line == 3)
        #expect(error?.message.hasPrefix("invalid YAML: ") == true)

        let badIndent = parse("id: 001-a\ntitle: x\n  kind: chore\n").diagnostics.errors
        #expect(badIndent.count == 1 && badIndent[0].line == 3 && badIndent[0].message.contains("mapping values are not allowed"))
    }

    @Test("binary, UTF-16 and non-UTF-8 files get a plain message, not a parser dump")
    func binaryAndEncoding() {
        let binary = TaskSpec.parse(Data([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00]), path: path)
        #expect(binary.diagnostics.errors.summary == ["1:1: file is binary (it contains NUL bytes), not YAML text; save it as UTF-8 text"])

        let latin1 = TaskSpec.parse(Data("id: 001-a\ntitle: Caf".utf8) + Data([0xE9]) + Data("\n".utf8), path: path)
        #expect(
            latin1.diagnostics.errors.summary == [
                "2:11: file is not valid UTF-8: byte 0xE9 at line 2, column 11 is not part of any character; save the file as UTF-8"
            ]
        )

        let utf16 = TaskSpec.parse(Data([0xFF, 0xFE, 0x69, 0x00, 0x64, 0x00]), path: path)
        #expect(utf16.diagnostics.errors.summary == ["1:1: file is UTF-16 text; save it as UTF-8"])
    }

    @Test("a 10 MB spec is refused by size before it is parsed")
    func hugeSpec() {
        let big = Data(repeating: UInt8(ascii: "#"), count: 10 * 1024 * 1024)
        let (spec, diagnostics) = TaskSpec.parse(big, path: path)
        #expect(spec == nil)
        #expect(
            diagnostics.errors.summary == [
                "1:1: file is 10485760 bytes, over the limit of 262144 bytes (256 KiB); keep it small and move large content elsewhere"
            ]
        )
    }

    @Test("many problems in one file are all reported, in file order")
    func manyProblems() {
        let (spec, diagnostics) = parse(
            """
            id: 1-bad
            titel: x
            kind: epic
            app: 42
            acceptance:
              - name: a
                http: { path: about.php, status: 999 }
            tags: frontend
            expected_artifacts: [/abs]
            review: later
            """
        )
        #expect(spec == nil)
        #expect(
            Diagnostic.sortedForReading(diagnostics).summary == [
                "1:1: missing required key 'title'",
                "1:5: id '1-bad' is not a valid task id: use three or more digits, a dash, and lowercase words joined by dashes, like '001-about-page'",
                "2:1: unknown key 'titel'; did you mean 'title'?",
                "3:7: 'kind' is 'epic'; it must be one of feature, bugfix, chore, followup",
                "4:6: 'app' must be text, found a number (42); put it in quotes: \"42\"",
                "7:19: 'acceptance[0].http.path' is 'about.php'; a request path starts with '/', like '/about.php'",
                "7:38: 'acceptance[0].http.status' is 999; it must be from 100 to 599",
                "8:7: 'tags' must be a list, found text 'frontend'",
                "9:22: expected artifact '/abs' is absolute; write it relative to the repository root",
                "10:9: 'review' is 'later'; it must be one of required, auto",
            ]
        )
    }

    @Test("a duplicate key is reported with where the first one is")
    func duplicateKey() {
        let (_, diagnostics) = parse(Fixtures.taskYAML + "title: Again\n")
        #expect(diagnostics.errors.summary == ["19:1: duplicate key 'title' (first at line 2); keep only one"])
    }

    @Test("YAML 1.1 typing: yes/no are booleans, quoted values are text, 900.0 is a whole number")
    func scalarTyping() {
        let yes = parse(Fixtures.taskYAML(replacingLine: 2, with: "title: yes"))
        #expect(yes.diagnostics.errors.summary == [#"2:8: 'title' must be text, found a yes/no value (yes); put it in quotes: "yes""#])
        let quoted = parse(Fixtures.taskYAML(replacingLine: 2, with: "title: 'yes'"))
        #expect(quoted.spec?.title == "yes")
        let float = parse(Fixtures.taskYAML(replacingLine: 11, with: "resource_requirements: { timeout_s: 900.0, cpus: 0.5 }"))
        #expect(float.spec?.resources == .init(timeoutSeconds: 900, memoryMB: 1024, cpus: 0.5))
    }

    @Test("block scalars, anchors and other YAML features read the same as in any YAML tool")
    func richYAML() throws {
        let (spec, diagnostics) = parse(
            """
            %YAML 1.1
            ---
            id: &id 001-about-page
            title: "Add an \\"About\\" page"
            kind: !!str feature
            app: blog
            story: >
              As a reader
              I want an About page.
            acceptance:
            - name: unit tests
              run: |
                php tests/run.php
                php tests/lint.php
            tags: [*id]
            """
        )
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let task = try #require(spec)
        #expect(task.title == "Add an \"About\" page")
        #expect(task.story == "As a reader I want an About page.\n")
        #expect(task.acceptance.first?.probe == .run("php tests/run.php\nphp tests/lint.php\n"))
        #expect(task.tags == ["001-about-page"])
    }

    @Test("a followup without related tasks is accepted with a warning")
    func followupWarning() {
        let (spec, diagnostics) = parse(Fixtures.taskYAML(replacingLine: 3, with: "kind: followup"))
        #expect(spec != nil)
        #expect(diagnostics.map(\.severity) == [.warning])
        #expect(diagnostics.first?.description.contains(": warning: a followup task should name") == true)
    }
}
