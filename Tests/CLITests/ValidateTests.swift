import Foundation
import Testing

@Suite struct ValidateTests {
    /// A control repository with a work tree.
    func makeBlog() throws -> (Scratch, URL) {
        let scratch = try Scratch()
        #expect(try devsys("init", scratch.path("blog")).status == 0)
        return (scratch, scratch.url.appendingPathComponent("blog"))
    }

    @Test func pathsOnDiskAreCheckedBeforeCommitting() throws {
        let (scratch, blog) = try makeBlog()
        try scratch.write(
            "blog/specs/002-login/task.yaml",
            validSpec(id: "002-login").replacingOccurrences(of: "kind: feature", with: "kind: featur")
        )
        let result = try devsys("validate", "specs/002-login", in: blog)
        #expect(result.status == 1)
        #expect(result.stdout.contains("specs/002-login/task.yaml:3:7: error:"), "\(result.stdout)")
        #expect(result.stdout.contains("1 spec checked: 1 error"))
        let file = try devsys("validate", "specs/002-login/task.yaml", in: blog)
        #expect(file.status == 1)
        let outside = try devsys("validate", "/etc/passwd", in: blog)
        #expect(outside.status == 1)
        #expect(outside.stderr.contains("/etc/passwd is not inside the repository"))
    }

    @Test func jsonOutputListsEveryProblem() throws {
        let (scratch, blog) = try makeBlog()
        try scratch.write("blog/specs/002-login/task.yaml", "id: 002-other\ntitle: x\nkind: feature\napp: nope\nacceptance: []\n")
        let result = try devsys("validate", "--json", "specs/002-login", in: blog)
        #expect(result.status == 1)
        struct Output: Decodable {
            struct Problem: Decodable {
                var path: String
                var line: Int
                var column: Int
                var severity: String
                var message: String
            }
            var valid: Bool
            var checked: [String]
            var diagnostics: [Problem]
        }
        let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
        #expect(!output.valid)
        #expect(output.checked == ["specs/002-login"])
        #expect(output.diagnostics.count >= 3, "id mismatch, unknown app and empty acceptance reported together")
        #expect(output.diagnostics.allSatisfy { $0.path == "specs/002-login/task.yaml" && $0.line >= 1 })
        #expect(output.diagnostics.contains { $0.line == 1 && $0.message.contains("002-other") })
        #expect(output.diagnostics.contains { $0.line == 4 && $0.message.contains("nope") })
    }

    @Test func revisionRangeChecksOnlyTheSpecsItChanged() throws {
        let (scratch, blog) = try makeBlog()
        try scratch.write("blog/specs/002-broken/task.yaml", "id: 002-broken\n")
        try git("add", "-A", in: blog)
        try git("commit", "-q", "--no-verify", "-m", "Broken spec, forced in", in: blog)
        try scratch.write("blog/specs/003-login/task.yaml", validSpec(id: "003-login"))
        try git("add", "-A", in: blog)
        try git("commit", "-q", "-m", "Add login", in: blog)

        let range = try devsys("validate", "--rev", "HEAD~1..HEAD", in: blog)
        #expect(range.status == 0, "\(range.stdout)")
        #expect(range.stdout.contains("1 spec checked: valid"))
        let whole = try devsys("validate", in: blog)
        #expect(whole.status == 1)
        #expect(whole.stdout.contains("specs/002-broken/task.yaml"))
        #expect(whole.stdout.contains("3 specs checked"))

        let bad = try devsys("validate", "--rev", "nope..HEAD", in: blog)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("unknown revision 'nope'"))
    }

    @Test func aChangeToDevsysYamlRechecksEverySpec() throws {
        let (scratch, blog) = try makeBlog()
        let config = try String(contentsOfFile: scratch.path("blog/devsys.yaml"), encoding: .utf8)
        try scratch.write("blog/devsys.yaml", config.replacingOccurrences(of: "  blog:\n", with: "  shop:\n"))
        try git("commit", "-q", "--no-verify", "-am", "Rename the app", in: blog)
        let result = try devsys("validate", "--rev", "HEAD~1..HEAD", in: blog)
        #expect(result.status == 1)
        #expect(result.stdout.contains("specs/001-about-page/task.yaml:4:6: error:"), "\(result.stdout)")
    }

    @Test func outsideARepositoryTheErrorSaysWhatToDo() throws {
        let scratch = try Scratch()
        let result = try devsys("validate", in: scratch.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("is not a git repository"))
        #expect(result.stderr.contains("devsys init"))
    }
}
