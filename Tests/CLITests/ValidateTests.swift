import Foundation
import Testing

@Suite struct ValidateTests {
    /// A control repository with a work tree.
    func makeBlog() throws -> (Scratch, URL) {
        let scratch = try Scratch()
        #expect(try devsys("init", scratch.path("blog")).status == 0)
        return (scratch, scratch.url.appendingPathComponent("blog"))
    }

    /// Writes `specs/<id>/task.yaml` and the agent.sh the template's `script` coding agent runs.
    func writeSpec(_ scratch: Scratch, _ id: String, _ yaml: String) throws {
        try scratch.write("blog/specs/\(id)/task.yaml", yaml)
        try scratch.write("blog/specs/\(id)/agent.sh", "echo '<?php echo 1;' > app/\(id).php\n")
    }

    @Test func pathsOnDiskAreCheckedBeforeCommitting() throws {
        let (scratch, blog) = try makeBlog()
        try writeSpec(scratch, "002-login", validSpec(id: "002-login").replacingOccurrences(of: "kind: feature", with: "kind: featur"))
        let result = try devsys("validate", "specs/002-login", in: blog)
        #expect(result.status == 1)
        #expect(result.stdout.contains("specs/002-login/task.yaml:3:7: error:"), "\(result.stdout)")
        #expect(result.stdout.contains("1 spec checked: 1 error"))
        let file = try devsys("validate", "specs/002-login/task.yaml", in: blog)
        #expect(file.status == 1)
        let outside = try devsys("validate", "/etc/passwd", in: blog)
        #expect(outside.status == 1)
        #expect(outside.stderr.contains("/etc/passwd is not inside the repository"))
        let app = try devsys("validate", "app/index.php", in: blog)
        #expect(app.status == 1)
        #expect(app.stderr.contains("app/index.php is not something devsys validates; pass a spec folder"), "\(app.stderr)")
    }

    @Test func inAWorkTreeValidateChecksWhatYouWouldCommitAndRefChecksTheTrunk() throws {
        let (scratch, blog) = try makeBlog()
        // Not committed: only the files on disk hold it.
        try writeSpec(scratch, "002-login", validSpec(id: "002-login", app: "shop"))
        let onDisk = try devsys("validate", in: blog)
        #expect(onDisk.status == 1, "\(onDisk.stdout)")
        #expect(onDisk.stdout.contains("specs/002-login/task.yaml:4:6: error: unknown app 'shop'"), "\(onDisk.stdout)")
        #expect(onDisk.stdout.contains("devsys.yaml, monitoring/checks.yaml and 2 specs checked: 1 error"), "\(onDisk.stdout)")

        let trunk = try devsys("validate", "--ref", "main", in: blog)
        #expect(trunk.status == 0, "\(trunk.stdout)")
        #expect(trunk.stdout.contains("devsys.yaml, monitoring/checks.yaml and 1 spec checked: valid"), "\(trunk.stdout)")
        let rev = try devsys("validate", "--rev", "main", in: blog)
        #expect(rev.status == 0, "\(rev.stdout)")
        let unknown = try devsys("validate", "--ref", "nope", in: blog)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("unknown revision 'nope'"), "\(unknown.stderr)")
        let both = try devsys("validate", "--ref", "main", "specs/002-login", in: blog)
        #expect(both.status == 2, "\(both.stderr)")

        // A bare repository has no files on disk: its trunk is checked.
        try git("clone", "-q", "--bare", scratch.path("blog"), scratch.path("blog.git"), in: scratch.url)
        let bare = try devsys("validate", "--repo", scratch.path("blog.git"))
        #expect(bare.status == 0, "\(bare.stdout)\(bare.stderr)")
        #expect(bare.stdout.contains("1 spec checked: valid"))
    }

    @Test func aPathThatDoesNotExistIsAnErrorNamingIt() throws {
        let (scratch, blog) = try makeBlog()
        let result = try devsys("validate", "specs/999-nope", "specs/001-about-pag", in: blog)
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "specs/999-nope:1:1: error: does not exist in the work tree; give an existing spec folder (specs/<id>) or a file in one, "
                    + "devsys.yaml or monitoring/checks.yaml"
            ),
            "\(result.stdout)"
        )
        #expect(
            result.stdout.contains("specs/001-about-pag:1:1: error: does not exist") && result.stdout.contains("did you mean 'specs/001-about-page'?")
        )
        #expect(result.stdout.contains("0 specs checked: 2 errors"))
        let file = try devsys("validate", "specs/001-about-page/tasks.md", in: blog)
        #expect(file.status == 1)
        #expect(file.stdout.contains("specs/001-about-page/tasks.md:1:1: error: does not exist"), "\(file.stdout)")
        let json = try devsys("validate", "--json", scratch.path("blog/specs/999-nope"), in: blog)
        #expect(json.status == 1)
        #expect(json.stdout.contains("\"valid\" : false") && json.stdout.contains("\"path\" : \"specs/999-nope\""), "\(json.stdout)")
    }

    @Test func devsysYamlAndTheMonitoringChecksAreAcceptedAsPaths() throws {
        let (scratch, blog) = try makeBlog()
        let valid = try devsys("validate", "devsys.yaml", in: blog)
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(valid.stdout.contains("devsys.yaml, monitoring/checks.yaml and 1 spec checked: valid"), "\(valid.stdout)")
        let checks = try devsys("validate", "monitoring/checks.yaml", in: blog)
        #expect(checks.status == 0, "\(checks.stdout)\(checks.stderr)")
        #expect(checks.stdout.contains("monitoring/checks.yaml checked: valid"), "\(checks.stdout)")
        let folder = try devsys("validate", "monitoring", in: blog)
        #expect(folder.stdout.contains("monitoring/checks.yaml checked: valid"), "\(folder.stdout)")
        let top = try devsys("validate", ".", in: blog)
        #expect(top.stdout.contains("devsys.yaml, monitoring/checks.yaml and 1 spec checked: valid"), "\(top.stdout)")

        // Renaming the app on disk: devsys.yaml is fine on its own, the spec that uses the app is not.
        let config = try String(contentsOfFile: scratch.path("blog/devsys.yaml"), encoding: .utf8)
        try scratch.write("blog/devsys.yaml", config.replacingOccurrences(of: "  blog:\n", with: "  shop:\n") + "trunc: main\n")
        let renamed = try devsys("validate", scratch.path("blog/devsys.yaml"), in: blog.appendingPathComponent("app"))
        #expect(renamed.status == 1)
        let typoLine = config.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(renamed.stdout.contains("devsys.yaml:\(typoLine):1: error: unknown key 'trunc'; did you mean 'trunk'?"), "\(renamed.stdout)")
        #expect(renamed.stdout.contains("specs/001-about-page/task.yaml:4:6: error: unknown app 'blog'"), "\(renamed.stdout)")

        try scratch.write("blog/monitoring/checks.yaml", "checks:\n  - { name: home, env: staging, http: { path: /, statu: 200 } }\n")
        let badChecks = try devsys("validate", "monitoring/checks.yaml", in: blog)
        #expect(badChecks.status == 1)
        #expect(badChecks.stdout.contains("monitoring/checks.yaml:2:"), "\(badChecks.stdout)")
        #expect(!badChecks.stdout.contains("specs/"), "only the checks were asked for: \(badChecks.stdout)")
    }

    @Test func hostSettingsEveryDeployWouldRefuseAreValidationErrors() throws {
        let (scratch, blog) = try makeBlog()
        let config = try String(contentsOfFile: scratch.path("blog/devsys.yaml"), encoding: .utf8)
        try scratch.write(
            "blog/devsys.yaml",
            config.replacingOccurrences(
                of: "  dev1: { transport: local, root: ./hosts/dev1, url: \"http://127.0.0.1:8081\" }\n",
                with: """
                      dev1: { transport: local, root: "./hosts/dev1\\n", url: "http://127.0.0.1:8081" }
                      web1: { address: "127.0.0.1:2222", user: deploy, root: /srv/devsys }

                    """
            )
        )
        let result = try devsys("validate", in: blog)
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "devsys.yaml:14:35: error: 'hosts.dev1.root' is './hosts/dev1\\n', which contains the control character \\n; "
                    + "write the folder on one line, without control characters"
            ),
            "\(result.stdout)"
        )
        #expect(
            result.stdout.contains("devsys.yaml:15:20: error: 'hosts.web1.address' is '127.0.0.1:2222', which holds a port; put the port in 'port'"),
            "\(result.stdout)"
        )
        // The hook refuses the same commit.
        try git("add", "-A", in: blog)
        let commit = try gitResult("commit", "-q", "-m", "Add web1", in: blog)
        #expect(commit.status != 0)
        #expect(commit.stderr.contains("devsys.yaml:14:35: error: 'hosts.dev1.root'"), "\(commit.stderr)")
    }

    @Test func aByteOrderMarkIsAcceptedInEveryFile() throws {
        let (scratch, blog) = try makeBlog()
        for file in ["devsys.yaml", "monitoring/checks.yaml", "specs/001-about-page/task.yaml"] {
            let text = try String(contentsOfFile: scratch.path("blog/\(file)"), encoding: .utf8)
            try scratch.write("blog/\(file)", "\u{FEFF}" + text)
        }
        try writeSpec(scratch, "002-login", "\u{FEFF}" + validSpec(id: "002-login").replacingOccurrences(of: "kind: feature", with: "kind: featur"))
        let result = try devsys("validate", in: blog)
        #expect(result.status == 1)
        #expect(result.stdout.contains("specs/002-login/task.yaml:3:7: error:"), "lines and columns count after the mark: \(result.stdout)")
        #expect(result.stdout.contains("devsys.yaml, monitoring/checks.yaml and 2 specs checked: 1 error"), "\(result.stdout)")
    }

    @Test func aScriptSpecWithoutItsAgentScriptIsInvalid() throws {
        let (scratch, blog) = try makeBlog()
        try scratch.write("blog/specs/002-login/task.yaml", validSpec(id: "002-login"))
        let result = try devsys("validate", "specs/002-login", in: blog)
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "specs/002-login:1:1: error: no agent.sh; the project's coding agent is 'kind: script' (agents.coding.kind in devsys.yaml; "
                    + "script is the default), which runs specs/002-login/agent.sh: add the script, or choose another agents.coding.kind"
            ),
            "\(result.stdout)"
        )
        // With a coding CLI instead, the spec needs no script.
        let config = try String(contentsOfFile: scratch.path("blog/devsys.yaml"), encoding: .utf8)
        try scratch.write("blog/devsys.yaml", config.replacingOccurrences(of: "kind: script", with: "kind: opencode"))
        let other = try devsys("validate", in: blog)
        #expect(other.status == 0, "\(other.stdout)")
    }

    @Test func jsonOutputListsEveryProblem() throws {
        let (scratch, blog) = try makeBlog()
        try writeSpec(scratch, "002-login", "id: 002-other\ntitle: x\nkind: feature\napp: nope\nacceptance: []\n")
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
        try writeSpec(scratch, "003-login", validSpec(id: "003-login"))
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
