import Foundation
import Git
import Testing

@testable import ControlRepository

@Suite struct RepositoryTemplateTests {
    @Test func theShippedTemplateIsAValidControlRepository() throws {
        let files = try RepositoryTemplate().files()
        #expect(files.keys.contains("devsys.yaml"))
        #expect(files.keys.contains("specs/001-about-page/task.yaml"))
        #expect(files.keys.contains(".gitignore"))
        guard case .write(_, let mode) = files["specs/001-about-page/agent.sh"] else {
            Issue.record("the template has an agent script")
            return
        }
        #expect(mode == .executable)

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let report = try ControlRepository.validate(
            paths: [root.appendingPathComponent("repo-template/specs").path],
            root: root.appendingPathComponent("repo-template")
        )
        #expect(report.isValid, "\(report.diagnostics)")
        #expect(report.checkedFolders == ["specs/001-about-page"])
    }

    @Test func specFolderNamesComeFromPathsUnderSpecs() {
        #expect(specFolderName(of: "specs/001-a/task.yaml") == "001-a")
        #expect(specFolderName(of: "specs/001-a") == "001-a")
        #expect(specFolderName(of: "specs/001-a/deep/file") == "001-a")
        #expect(specFolderName(of: "app/specs/001-a/task.yaml") == nil)
        #expect(specFolderName(of: "specs") == nil)
    }
}
