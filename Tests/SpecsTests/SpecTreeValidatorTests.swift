import Foundation
import Testing

@testable import Specs

@Suite("spec folders against the repository")
struct SpecTreeValidatorTests {
    let validator = Fixtures.validator
    let ids: Set<String> = ["001-about-page", "002-login", "003-contact"]

    @Test("the DESIGN example in its folder, with spec-kit files, is valid")
    func validFolder() {
        let folder = Fixtures.folder(
            "001-about-page",
            ["task.yaml": Fixtures.taskYAML, "spec.md": Fixtures.specMD, "plan.md": Fixtures.planMD, "tasks.md": Fixtures.tasksMD]
        )
        #expect(validator.configDiagnostics.isEmpty, "\(validator.configDiagnostics)")
        #expect(validator.validate(folders: [folder], allTaskIDs: ids).isEmpty)
    }

    @Test("id and folder name must match")
    func idMismatch() {
        let folder = Fixtures.folder("002-login", ["task.yaml": Fixtures.taskYAML])
        #expect(
            validator.validate(folders: [folder], allTaskIDs: ids).map(\.description) == [
                "specs/002-login/task.yaml:1:5: error: id '001-about-page' does not match its folder 'specs/002-login'; rename one of them"
            ]
        )
    }

    @Test("a folder name that is no task id is reported on the folder")
    func badFolderName() {
        let folder = Fixtures.folder("About Page", ["task.yaml": Fixtures.spec(id: "004-about")])
        let diagnostics = validator.validate(folders: [folder], allTaskIDs: ids)
        #expect(
            diagnostics.summary == [
                "1:1: folder name 'About Page' is not a valid task id: use three or more digits, a dash, and lowercase words joined by dashes, like '001-about-page'; rename the folder",
                "1:5: id '004-about' does not match its folder 'specs/About Page'; rename one of them",
            ]
        )
        #expect(diagnostics.first?.path == "specs/About Page")
    }

    @Test("unknown app and environment come with the nearest names in devsys.yaml")
    func unknownAppAndEnvironment() {
        var text = Fixtures.taskYAML.replacingOccurrences(of: "app: blog", with: "app: blgo")
        text = text.replacingOccurrences(of: "env: staging", with: "env: prod")
        let diagnostics = validator.validate(folders: [Fixtures.folder("001-about-page", ["task.yaml": text])], allTaskIDs: ids)
        #expect(
            diagnostics.summary == [
                "4:6: unknown app 'blgo'; it is not under 'apps' in devsys.yaml; did you mean 'blog'?",
                "18:16: unknown environment 'prod' in 'deploy.env'; it is not under 'environments' in devsys.yaml",
            ]
        )
    }

    @Test("related tasks must exist and not be the task itself")
    func relatedTasks() {
        let text = Fixtures.taskYAML.replacingOccurrences(of: "related_tasks: []", with: "related_tasks: [002-logni, 001-about-page, 003-contact]")
        let diagnostics = validator.validate(folders: [Fixtures.folder("001-about-page", ["task.yaml": text])], allTaskIDs: ids)
        #expect(
            diagnostics.summary == [
                "13:17: related task '002-logni' does not exist under specs/; did you mean '002-login'?",
                "13:28: related task '001-about-page' is this task itself; remove it",
            ]
        )
    }

    @Test("two folders claiming one id are both reported")
    func duplicateIDs() {
        let a = Fixtures.folder("002-login", ["task.yaml": Fixtures.spec(id: "002-login")])
        let b = Fixtures.folder("003-contact", ["task.yaml": Fixtures.spec(id: "002-login")])
        let diagnostics = validator.validate(folders: [a, b], allTaskIDs: ids)
        #expect(
            diagnostics.map(\.description) == [
                "specs/002-login/task.yaml:1:5: error: id '002-login' is also used by specs/003-contact/task.yaml; every task needs its own id",
                "specs/003-contact/task.yaml:1:5: error: id '002-login' does not match its folder 'specs/003-contact'; rename one of them",
                "specs/003-contact/task.yaml:1:5: error: id '002-login' is also used by specs/002-login/task.yaml; every task needs its own id",
            ]
        )
    }

    @Test("a folder without task.yaml, oversize files, and a binary task.yaml")
    func missingOversizeBinary() {
        let script = Fixtures.data(Fixtures.agentScript)
        let empty = SpecFolder(path: "specs/002-login", files: ["spec.md": Data(Fixtures.specMD.utf8), "agent.sh": script])
        let oversize = SpecFolder(
            path: "specs/003-contact",
            files: [:],
            oversizeFiles: ["task.yaml": 300_000, "logo.png": 2_000_000, "agent.sh": 300_000]
        )
        let binary = SpecFolder(path: "specs/001-about-page", files: ["task.yaml": Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x1A]), "agent.sh": script])
        let tooBig = SpecFolder(
            path: "specs/004-big",
            files: ["task.yaml": Data(repeating: UInt8(ascii: "a"), count: 10 * 1024 * 1024), "agent.sh": script]
        )
        let diagnostics = validator.validate(folders: [empty, oversize, binary, tooBig], allTaskIDs: ids)
        #expect(
            diagnostics.map(\.description) == [
                "specs/001-about-page/task.yaml:1:1: error: file is binary (it contains NUL bytes), not YAML text; save it as UTF-8 text",
                "specs/002-login:1:1: error: no task.yaml; every spec folder needs one",
                "specs/003-contact/agent.sh:1:1: error: file is 300000 bytes, over the limit of 262144 bytes (256 KiB); keep spec files small",
                "specs/003-contact/logo.png:1:1: error: file is 2000000 bytes, over the limit of 262144 bytes (256 KiB); keep spec files small",
                "specs/003-contact/task.yaml:1:1: error: file is 300000 bytes, over the limit of 262144 bytes (256 KiB); keep spec files small",
                "specs/004-big/task.yaml:1:1: error: file is 10485760 bytes, over the limit of 262144 bytes (256 KiB); keep spec files small",
            ]
        )
    }

    @Test("a folder named like a path escape, and malformed YAML at its line")
    func hostileInput() {
        let escape = Fixtures.folder("../../etc", ["task.yaml": "id: ../../etc\ntitle: x\n"])
        let malformed = Fixtures.folder("002-login", ["task.yaml": "id: 002-login\ntitle: \"unterminated\nkind: chore\n"])
        let diagnostics = validator.validate(folders: [escape, malformed], allTaskIDs: ids)
        #expect(diagnostics.contains { $0.path == "specs/../../etc" && $0.message.hasPrefix("folder name 'etc' is not a valid task id") })
        #expect(
            diagnostics.contains {
                $0.path == "specs/../../etc/task.yaml" && $0.line == 1 && $0.column == 5
                    && $0.message.hasPrefix("id '../../etc' is not a valid task id")
            }
        )
        #expect(diagnostics.contains { $0.path == "specs/002-login/task.yaml" && $0.line == 4 && $0.message.hasPrefix("invalid YAML: ") })
    }

    @Test("diagnostics of several folders are sorted by path, line and column")
    func sorted() {
        let a = Fixtures.folder("003-contact", ["task.yaml": Fixtures.spec(id: "003-contact", extra: "review: later\ntags: x\n")])
        let b = Fixtures.folder("002-login", ["task.yaml": Fixtures.spec(id: "002-login", extra: "kind2: x\n")])
        let diagnostics = validator.validate(folders: [a, b], allTaskIDs: ids)
        #expect(diagnostics == Diagnostic.sortedForReading(diagnostics))
        #expect(diagnostics.map(\.path) == ["specs/002-login/task.yaml", "specs/003-contact/task.yaml", "specs/003-contact/task.yaml"])
    }

    @Test("without devsys.yaml: one diagnostic for it, and specs are still checked on their own")
    func missingConfig() {
        let validator = SpecTreeValidator(config: nil)
        #expect(
            validator.configDiagnostics.map(\.description) == [
                "devsys.yaml:1:1: error: devsys.yaml is missing at the top of the repository; run 'devsys init' or add one naming your apps"
            ]
        )
        let folder = Fixtures.folder("001-about-page", ["task.yaml": Fixtures.taskYAML.replacingOccurrences(of: "app: blog", with: "app: anything")])
        #expect(validator.validate(folders: [folder], allTaskIDs: ids).isEmpty)
    }

    @Test("spec-kit problems in a folder are reported under their files")
    func specKitInFolder() {
        let folder = Fixtures.folder(
            "001-about-page",
            ["task.yaml": Fixtures.taskYAML, "tasks.md": "# Tasks\n\n- [ ] T1 do it\n", "agent.sh": "#!/bin/sh\n"]
        )
        #expect(
            validator.validate(folders: [folder], allTaskIDs: ids).map(\.description) == [
                "specs/001-about-page/tasks.md:3:1: error: task line must read '- [ ] T001 [P] [US1] description' (box '[ ]' or '[x]', T and three digits, optional [P] and [USn], then text)"
            ]
        )
    }

    @Test("with the script coding agent (the default) a spec folder needs its agent.sh; other agents do not")
    func agentScript() {
        let folder = Fixtures.folder("001-about-page", ["task.yaml": Fixtures.taskYAML], agentScript: false)
        #expect(
            validator.validate(folders: [folder], allTaskIDs: ids).map(\.description) == [
                "specs/001-about-page:1:1: error: no agent.sh; the project's coding agent is 'kind: script' (agents.coding.kind in "
                    + "devsys.yaml; script is the default), which runs specs/001-about-page/agent.sh: add the script, or choose another "
                    + "agents.coding.kind"
            ]
        )
        let byDefault = SpecTreeValidator(config: ("devsys.yaml", Fixtures.data("apps:\n  blog: { path: app }\n")))
        #expect(
            byDefault.validate(folders: [folder], allTaskIDs: ids).contains {
                $0.path == "specs/001-about-page" && $0.message.hasPrefix("no agent.sh")
            }
        )
        let opencode = Fixtures.devsysYAML.replacingOccurrences(of: "kind: script", with: "kind: opencode")
        let other = SpecTreeValidator(config: ("devsys.yaml", Fixtures.data(opencode)))
        #expect(other.configDiagnostics.isEmpty, "\(other.configDiagnostics)")
        #expect(other.validate(folders: [folder], allTaskIDs: ids).isEmpty)
    }
}
