import Foundation
import Git
import Testing

@testable import Agents

/// The protected-path check runs on the tree devsys commits, not only on what the walk of the
/// checkout reported: a change set that reaches a protected path by any road is refused, and
/// the branch does not move.
@Suite("Coding agent: the committed tree")
struct FinalTreeTests {
    @Test("a change set that writes devsys.yaml is refused before the branch moves")
    func protectedPathInTheCommittedTree() throws {
        let fixture = try ControlRepoFixture()
        defer { fixture.remove() }
        let request = fixture.codingRequest()
        var changes = try WorkFolderChanges(folder: fixture.outside, tree: [], limits: .init(changeBytes: 1 << 20, fileBytes: 1 << 20))
        changes.changes = ["app/about.php": .write(Data("about".utf8)), "devsys.yaml": .write(Data("trunk: evil\n".utf8))]
        changes.changedPaths = ["app/about.php"]
        let result = try CodingAgent.commitChanges(changes, request: request, duration: .seconds(1))
        guard case .failure(let failure) = result else {
            Issue.record("the commit went through: \(result)")
            return
        }
        #expect(failure.reason.contains("devsys.yaml") && failure.reason.contains("protected"), "\(failure.reason)")
        #expect(try fixture.branchHead() == fixture.head, "the branch did not move")
    }
}
