import Foundation
import Testing

@testable import Specs

@Suite("spec-kit files")
struct SpecKitTests {
    func check(_ file: SpecKitFile, _ text: String) -> [String] {
        file.validate(Fixtures.data(text), path: "specs/001-a/\(file.rawValue)").summary
    }

    @Test("a valid spec.md, plan.md and tasks.md pass")
    func validTrio() {
        #expect(check(.spec, Fixtures.specMD) == [])
        #expect(check(.plan, Fixtures.planMD) == [])
        #expect(check(.tasks, Fixtures.tasksMD) == [])
    }

    @Test("spec.md: each mandatory section is required")
    func missingSections() {
        let noSuccess = Fixtures.specMD.replacingOccurrences(of: "## Success Criteria *(mandatory)*", with: "## Outcomes")
        #expect(
            check(.spec, noSuccess) == [
                "1:1: spec.md has no '## Success Criteria' section; spec-kit's spec template requires it — add it, even if short"
            ]
        )
        let noScenarios = Fixtures.specMD.replacingOccurrences(of: "## User Scenarios & Testing *(mandatory)*", with: "## Stories")
        #expect(
            check(.spec, noScenarios).contains(
                "1:1: spec.md has no '## User Scenarios & Testing' section; spec-kit's spec template requires it — add it, even if short"
            )
        )
    }

    @Test("spec.md: Requirements needs an FR line, and FR ids have three digits")
    func requirements() {
        let noFR = Fixtures.specMD.replacingOccurrences(
            of: "- **FR-001**: System MUST serve an About page at /about.php\n- **FR-002**: The menu MUST link to the About page\n",
            with: "- Serve the page\n"
        )
        #expect(check(.spec, noFR) == ["16:1: '## Requirements' lists no functional requirement; add lines like '- **FR-001**: System MUST …'"])
        let badFR = Fixtures.specMD.replacingOccurrences(of: "**FR-002**", with: "**FR-2**")
        #expect(check(.spec, badFR) == ["21:3: functional requirement ids look like '**FR-001**' (FR, a dash, three digits, in bold)"])
    }

    @Test("spec.md: scenarios need Given, When and Then; at least one is needed")
    func scenarios() {
        let incomplete = Fixtures.specMD.replacingOccurrences(of: ", **Then** the page shows who writes the blog", with: "")
        #expect(
            check(.spec, incomplete) == [
                "6:1: spec.md has no acceptance scenario; add at least one line like '1. **Given** …, **When** …, **Then** …'",
                "14:1: acceptance scenario has no **Then** after **When**; write '**Given** …, **When** …, **Then** …'",
            ]
        )
    }

    @Test("every [NEEDS CLARIFICATION marker is reported at its line and column, in any of the files")
    func clarificationMarkers() {
        let spec = Fixtures.specMD.replacingOccurrences(
            of: "at /about.php",
            with: "at [NEEDS CLARIFICATION: which URL?] and [NEEDS CLARIFICATION: which menu?]"
        )
        #expect(
            check(.spec, spec) == [
                "20:50: spec.md still has an open question: [NEEDS CLARIFICATION: which URL?]; answer it in the text and remove the marker (spec-kit's /clarify helps)",
                "20:88: spec.md still has an open question: [NEEDS CLARIFICATION: which menu?]; answer it in the text and remove the marker (spec-kit's /clarify helps)",
            ]
        )
        let plan = Fixtures.planMD.replacingOccurrences(of: "PHP 8.2", with: "[NEEDS CLARIFICATION: PHP version]")
        #expect(check(.plan, plan).count == 1)
        #expect(check(.plan, plan).first?.hasPrefix("9:23: plan.md still has an open question") == true)
    }

    @Test("plan.md needs a Summary or Technical Context section")
    func planSections() {
        #expect(check(.plan, "# Plan\n\n## Summary\n\nx\n") == [])
        #expect(check(.plan, "# Plan\n\n## Technical Context\n") == [])
        #expect(
            check(.plan, "# Plan\n\nJust notes.\n") == [
                "1:1: plan.md has neither a '## Summary' nor a '## Technical Context' section; start from spec-kit's plan template"
            ]
        )
    }

    @Test("tasks.md: malformed task lines and duplicate ids, each at its line")
    func taskLines() {
        let text = """
            # Tasks

            - [ ] T001 Good
            - [] T002 empty box
            - [ ] T03 two digits
            - [ ]T004 no space
            - [ ] T005 [P] [US] no story number
            - [ ] T001 again
            - [y] T006 odd box
            - [ ] T007
            - [P] tasks = different files (legend, not a task)

            ```
            - [ ] not checked inside a code block
            ```
            """
        #expect(
            check(.tasks, text) == [
                "4:1: task line must read '- [ ] T001 [P] [US1] description' (box '[ ]' or '[x]', T and three digits, optional [P] and [USn], then text)",
                "5:1: task line must read '- [ ] T001 [P] [US1] description' (box '[ ]' or '[x]', T and three digits, optional [P] and [USn], then text)",
                "6:1: task line must read '- [ ] T001 [P] [US1] description' (box '[ ]' or '[x]', T and three digits, optional [P] and [USn], then text)",
                "7:1: task line must read '- [ ] T001 [P] [US1] description' (box '[ ]' or '[x]', T and three digits, optional [P] and [USn], then text)",
                "8:1: task T001 is listed twice (first at line 3); give each task its own number",
                "10:1: task line must read '- [ ] T001 [P] [US1] description' (box '[ ]' or '[x]', T and three digits, optional [P] and [USn], then text)",
            ]
        )
        #expect(check(.tasks, "# Tasks\n") == ["1:1: tasks.md lists no tasks; add lines like '- [ ] T001 Create the page in app/about.php'"])
    }

    @Test("binary markdown is refused plainly")
    func binary() {
        #expect(
            SpecKitFile.spec.validate(Data([0x25, 0x50, 0x44, 0x46, 0x00]), path: "spec.md").summary == [
                "1:1: file is binary (it contains NUL bytes), not text; save it as UTF-8 text"
            ]
        )
    }
}
