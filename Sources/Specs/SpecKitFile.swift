import Foundation

/// The spec-kit files a spec folder may hold beside task.yaml — `spec.md`, `plan.md`, `tasks.md`
/// (github/spec-kit's templates) — and the checks devsys makes on them (DESIGN §3). spec-kit
/// checks none of this by machine.
///
/// - spec.md: sections `## User Scenarios & Testing`, `## Requirements` (with at least one
///   `**FR-NNN**` line) and `## Success Criteria` (a trailing `*(mandatory)*` is fine); at least one
///   acceptance scenario `**Given** …, **When** …, **Then** …`, and every line with `**Given**`
///   complete.
/// - plan.md: a `## Summary` or `## Technical Context` section.
/// - tasks.md: every checklist line (`- [ ]`, `- [x]`, `- [X]`, or a malformed box) reads
///   `- [ ] T001 [P] [US1] text` (`[P]` and `[USn]` optional), with no task id twice; lines that
///   explain the labels, like `- [P] tasks = different files`, are not tasks.
/// - all three: no `[NEEDS CLARIFICATION` marker left.
///
/// Fenced code blocks are skipped.
public enum SpecKitFile: String, Sendable, CaseIterable {
    case spec = "spec.md"
    case plan = "plan.md"
    case tasks = "tasks.md"

    /// Checks the file's content; `path` is used in the diagnostics.
    public func validate(_ data: Data, path: String) -> [Diagnostic] {
        var d = DiagnosticCollector(path: path)
        let lines: [Substring]
        let survey = data.withUnsafeBytes { TextSurvey($0.bindMemory(to: UInt8.self)) }
        if let problem = survey.problem {
            d.error(problem.message.replacingOccurrences(of: "YAML text", with: "text"), at: problem.mark)
            return d.diagnostics
        }
        let text = String(decoding: data, as: UTF8.self)
        lines = MarkdownLines.split(text)
        let document = MarkdownLines(lines)
        reportClarificationMarkers(document, into: &d)
        switch self {
        case .spec: checkSpec(document, into: &d)
        case .plan: checkPlan(document, into: &d)
        case .tasks: checkTasks(document, into: &d)
        }
        return Diagnostic.sortedForReading(d.diagnostics)
    }

    private func reportClarificationMarkers(_ document: MarkdownLines, into d: inout DiagnosticCollector) {
        for (number, line) in document.prose {
            var rest = line[...]
            while let range = rest.range(of: "[NEEDS CLARIFICATION") {
                let column = line.unicodeScalars.distance(from: line.startIndex, to: range.lowerBound) + 1
                let end = line[range.upperBound...].firstIndex(of: "]").map { line.index(after: $0) } ?? line.endIndex
                var marker = String(line[range.lowerBound..<end])
                if marker.count > 80 { marker = String(marker.prefix(77)) + "…" }
                d.error(
                    "\(rawValue) still has an open question: \(marker); answer it in the text and remove the marker (spec-kit's /clarify helps)",
                    at: YAMLMark(line: number, column: column)
                )
                rest = line[range.upperBound...]
            }
        }
    }

    // MARK: spec.md

    private func checkSpec(_ document: MarkdownLines, into d: inout DiagnosticCollector) {
        let required = [
            ("User Scenarios & Testing", ["user scenarios & testing", "user scenarios and testing"]),
            ("Requirements", ["requirements"]),
            ("Success Criteria", ["success criteria"]),
        ]
        for (title, accepted) in required where document.section(startingWith: accepted) == nil {
            d.error(
                "spec.md has no '## \(title)' section; spec-kit's spec template requires it — add it, even if short",
                at: .startOfFile
            )
        }
        if let requirements = document.section(startingWith: ["requirements"]) {
            var found = false
            for (number, line) in document.prose where requirements.lines.contains(number) {
                var rest = line[...]
                while let range = rest.range(of: "**FR-") {
                    let after = line[range.upperBound...]
                    let digits = after.prefix { $0.isASCII && $0.isNumber }
                    let column = line.unicodeScalars.distance(from: line.startIndex, to: range.lowerBound) + 1
                    if digits.count >= 3, after.dropFirst(digits.count).hasPrefix("**") {
                        found = true
                    } else {
                        d.error(
                            "functional requirement ids look like '**FR-001**' (FR, a dash, three digits, in bold)",
                            at: YAMLMark(line: number, column: column)
                        )
                    }
                    rest = line[range.upperBound...]
                }
            }
            if !found {
                d.error(
                    "'## Requirements' lists no functional requirement; add lines like '- **FR-001**: System MUST …'",
                    at: YAMLMark(line: requirements.headingLine, column: 1)
                )
            }
        }
        var scenarios = 0
        for (number, line) in document.prose where line.contains("**Given**") {
            guard let given = line.range(of: "**Given**") else { continue }
            let afterGiven = line[given.upperBound...]
            guard let when = afterGiven.range(of: "**When**") else {
                d.error(
                    "acceptance scenario has **Given** but no **When** after it; write '**Given** …, **When** …, **Then** …'",
                    at: YAMLMark(line: number, column: 1)
                )
                continue
            }
            guard line[when.upperBound...].contains("**Then**") else {
                d.error(
                    "acceptance scenario has no **Then** after **When**; write '**Given** …, **When** …, **Then** …'",
                    at: YAMLMark(line: number, column: 1)
                )
                continue
            }
            scenarios += 1
        }
        if scenarios == 0 {
            let line = document.section(startingWith: ["user scenarios & testing", "user scenarios and testing"])?.headingLine ?? 1
            d.error(
                "spec.md has no acceptance scenario; add at least one line like '1. **Given** …, **When** …, **Then** …'",
                at: YAMLMark(line: line, column: 1)
            )
        }
    }

    // MARK: plan.md

    private func checkPlan(_ document: MarkdownLines, into d: inout DiagnosticCollector) {
        let hasSummary = document.headings.contains { heading in
            let title = heading.title.lowercased()
            return title.hasPrefix("summary") || title.hasPrefix("technical context")
        }
        if !hasSummary {
            d.error(
                "plan.md has neither a '## Summary' nor a '## Technical Context' section; start from spec-kit's plan template",
                at: .startOfFile
            )
        }
    }

    // MARK: tasks.md

    private func checkTasks(_ document: MarkdownLines, into d: inout DiagnosticCollector) {
        var seen: [String: Int] = [:]
        var taskCount = 0
        for (number, line) in document.prose {
            let indentation = line.prefix { $0 == " " }.count
            let trimmed = line.dropFirst(indentation)
            guard trimmed.hasPrefix("- [") else { continue }
            let afterOpen = trimmed.dropFirst(3)
            let box = afterOpen.prefix { $0 != "]" }
            let closed = box.count < afterOpen.count
            // `- [P] tasks = …` and `- [Story] label …` explain labels; they are not tasks.
            guard !closed || box.allSatisfy({ $0 == " " || $0 == "x" || $0 == "X" }) else { continue }
            taskCount += 1
            let mark = YAMLMark(line: number, column: indentation + 1)
            guard let id = TaskLine.parse(trimmed) else {
                d.error(
                    "task line must read '- [ ] T001 [P] [US1] description' (box '[ ]' or '[x]', T and three digits, "
                        + "optional [P] and [USn], then text)",
                    at: mark
                )
                continue
            }
            if let first = seen[id] {
                d.error("task \(id) is listed twice (first at line \(first)); give each task its own number", at: mark)
            } else {
                seen[id] = number
            }
        }
        if taskCount == 0 {
            d.error("tasks.md lists no tasks; add lines like '- [ ] T001 Create the page in app/about.php'", at: .startOfFile)
        }
    }
}

/// `- [ ] T001 [P] [US1] text`; returns the task id when the line has that shape.
enum TaskLine {
    static func parse(_ line: Substring) -> String? {
        var rest = line.unicodeScalars[...]
        func take(_ prefix: String) -> Bool {
            guard rest.starts(with: prefix.unicodeScalars) else { return false }
            rest = rest.dropFirst(prefix.unicodeScalars.count)
            return true
        }
        guard take("- [ ] ") || take("- [x] ") || take("- [X] ") else { return nil }
        guard take("T") else { return nil }
        let digits = rest.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        let id = "T" + String(String.UnicodeScalarView(digits))
        rest = rest.dropFirst(3)
        guard take(" ") else { return nil }
        _ = take("[P] ")
        if rest.starts(with: "[US".unicodeScalars) {
            rest = rest.dropFirst(3)
            let number = rest.prefix { ("0"..."9").contains($0) }
            guard !number.isEmpty else { return nil }
            rest = rest.dropFirst(number.count)
            guard take("] ") else { return nil }
        }
        guard let first = rest.first, first != " ", !rest.allSatisfy({ $0 == " " }) else { return nil }
        return id
    }
}

/// A Markdown file as numbered lines, with fenced code blocks set aside and `#` headings found.
struct MarkdownLines {
    struct Heading {
        var level: Int
        var title: String
        var line: Int
    }

    struct Section {
        var headingLine: Int
        /// Line numbers of the section, its heading excluded, up to the next heading of its level or higher.
        var lines: Range<Int>
    }

    /// Lines outside code fences, 1-based numbers.
    private(set) var prose: [(number: Int, line: Substring)] = []
    private(set) var headings: [Heading] = []
    let lineCount: Int

    static func split(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    }

    init(_ lines: [Substring]) {
        lineCount = lines.count
        var fence: Substring?
        for (index, line) in lines.enumerated() {
            let number = index + 1
            let trimmed = line.drop { $0 == " " }
            if let open = fence {
                if trimmed.hasPrefix(open) { fence = nil }
                continue
            }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                fence = trimmed.prefix(3)
                continue
            }
            prose.append((number, line))
            if line.hasPrefix("#") {
                let level = line.prefix { $0 == "#" }.count
                let rest = line.dropFirst(level)
                if level <= 6, rest.isEmpty || rest.hasPrefix(" ") {
                    headings.append(Heading(level: level, title: MarkdownLines.headingTitle(rest), line: number))
                }
            }
        }
    }

    /// "User Scenarios & Testing *(mandatory)*" → "User Scenarios & Testing".
    private static func headingTitle(_ text: Substring) -> String {
        var title = text.trimmingCharacters(in: .whitespaces)
        for suffix in ["*(mandatory)*", "_(mandatory)_", "(mandatory)", "*(optional)*", "_(optional)_", "(optional)"] where title.hasSuffix(suffix) {
            title = String(title.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
        }
        while title.hasSuffix("#") { title = String(title.dropLast()).trimmingCharacters(in: .whitespaces) }
        return title
    }

    /// The first level-2 section whose title starts with one of `prefixes` (lowercase).
    func section(startingWith prefixes: [String]) -> Section? {
        guard
            let index = headings.firstIndex(where: { heading in
                heading.level == 2 && prefixes.contains { heading.title.lowercased().hasPrefix($0) }
            })
        else { return nil }
        let heading = headings[index]
        let end = headings[(index + 1)...].first { $0.level <= heading.level }?.line ?? (lineCount + 1)
        return Section(headingLine: heading.line, lines: (heading.line + 1)..<end)
    }
}
