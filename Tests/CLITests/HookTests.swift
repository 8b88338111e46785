import Foundation
import Testing

/// The hooks from the user's side: pushes with the git CLI into a bare repository made by
/// `devsys init --bare`, and commits in a work tree.
@Suite struct HookTests {
    /// A bare control repository and a clone of it.
    struct Remote {
        let scratch: Scratch
        var bare: URL { scratch.url.appendingPathComponent("blog.git") }
        var clone: URL { scratch.url.appendingPathComponent("blog") }

        init() throws {
            scratch = try Scratch()
            #expect(try devsys("init", "--bare", scratch.path("blog.git")).status == 0)
            try git("clone", "-q", scratch.path("blog.git"), scratch.path("blog"), in: scratch.url)
        }

        /// Writes `specs/<id>/task.yaml` and, unless `agentScript` is false, the agent.sh the
        /// template's `script` coding agent runs.
        func writeSpec(_ id: String, _ yaml: String, agentScript: Bool = true) throws {
            try scratch.write("blog/specs/\(id)/task.yaml", yaml)
            if agentScript { try scratch.write("blog/specs/\(id)/agent.sh", "echo '<?php echo 1;' > app/\(id).php\n") }
        }

        func commit(_ message: String) throws {
            try git("add", "-A", in: clone)
            try git("commit", "-q", "--no-verify", "-m", message, in: clone)
        }
    }

    @Test func pushOfAnInvalidSpecIsRefusedWithTheValidatorsMessage() throws {
        let remote = try Remote()
        try remote.writeSpec("002-login", validSpec(id: "002-login") + "\ntitel: typo\n")
        try remote.commit("Add a login task")
        let push = try gitResult("push", "origin", "main", in: remote.clone)
        #expect(push.status != 0)
        #expect(push.stderr.contains("remote: specs/002-login/task.yaml:10:1: error:"), "\(push.stderr)")
        #expect(push.stderr.contains("did you mean 'title'"))
        #expect(push.stderr.contains("pre-receive hook declined"))
        #expect(try git("rev-list", "--count", "main", in: remote.bare) == "1\n", "main did not move")
    }

    @Test func pushOfAValidSpecIsAccepted() throws {
        let remote = try Remote()
        try remote.writeSpec("002-login", validSpec(id: "002-login"))
        try remote.commit("Add a login task")
        let push = try gitResult("push", "origin", "main", in: remote.clone)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(try git("rev-parse", "main", in: remote.bare) == git("rev-parse", "main", in: remote.clone))
    }

    @Test func pushOfAScriptSpecWithoutItsAgentScriptIsRefused() throws {
        let remote = try Remote()
        try remote.writeSpec("002-login", validSpec(id: "002-login"), agentScript: false)
        try remote.commit("Add a login task, forgetting its agent.sh")
        let push = try gitResult("push", "origin", "main", in: remote.clone)
        #expect(push.status != 0)
        #expect(push.stderr.contains("remote: specs/002-login:1:1: error: no agent.sh;"), "\(push.stderr)")
        #expect(push.stderr.contains("pre-receive hook declined"))
        #expect(try git("rev-list", "--count", "main", in: remote.bare) == "1\n", "main did not move")

        try remote.scratch.write("blog/specs/002-login/agent.sh", "echo '<?php echo 1;' > app/002-login.php\n")
        try remote.commit("Add its agent.sh")
        let fixed = try gitResult("push", "origin", "main", in: remote.clone)
        #expect(fixed.status == 0, "\(fixed.stderr)")
    }

    @Test func pushOfAHostTheDeployerWouldRefuseIsRefused() throws {
        let remote = try Remote()
        let config = try String(contentsOfFile: remote.scratch.path("blog/devsys.yaml"), encoding: .utf8)
        try remote.scratch.write("blog/devsys.yaml", config.replacingOccurrences(of: "root: ./hosts/dev1", with: "root: \"./hosts/dev1\\n\""))
        try remote.commit("A root with a line break")
        let push = try gitResult("push", "origin", "main", in: remote.clone)
        #expect(push.status != 0)
        #expect(push.stderr.contains("remote: devsys.yaml:14:35: error: 'hosts.dev1.root' is './hosts/dev1\\n'"), "\(push.stderr)")
    }

    @Test func pushThatDeletesASpecIsAccepted() throws {
        let remote = try Remote()
        try git("rm", "-q", "-r", "specs/001-about-page", in: remote.clone)
        try git("commit", "-q", "-m", "Drop the about page", in: remote.clone)
        let push = try gitResult("push", "origin", "main", in: remote.clone)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(try git("ls-tree", "-r", "--name-only", "main", "specs", in: remote.bare).isEmpty)
    }

    @Test func invalidSpecsOnOtherBranchesAreNotTheTrunksBusiness() throws {
        let remote = try Remote()
        try git("checkout", "-q", "-b", "draft", in: remote.clone)
        try remote.scratch.write("blog/specs/002-login/task.yaml", "id: 002-login\n")
        try remote.commit("Work in progress")
        let push = try gitResult("push", "origin", "draft", in: remote.clone)
        #expect(push.status == 0, "\(push.stderr)")
    }

    @Test func preCommitRefusesAnInvalidStagedSpec() throws {
        let scratch = try Scratch()
        #expect(try devsys("init", scratch.path("blog")).status == 0)
        let blog = scratch.url.appendingPathComponent("blog")
        try scratch.write("blog/specs/002-login/task.yaml", validSpec(id: "002-login", app: "shop"))
        try scratch.write("blog/specs/002-login/agent.sh", "echo '<?php echo 1;' > app/002-login.php\n")
        try git("add", "specs", in: blog)
        let commit = try gitResult("commit", "-m", "Add login", in: blog)
        #expect(commit.status != 0)
        #expect(
            commit.stderr.contains("specs/002-login/task.yaml:4:6: error: unknown app 'shop'"),
            "git shows hook output on stderr: \(commit.stderr)"
        )
        #expect(try git("rev-list", "--count", "HEAD", in: blog) == "1\n")

        try scratch.write("blog/specs/002-login/task.yaml", validSpec(id: "002-login"))
        try git("add", "specs", in: blog)
        let fixed = try gitResult("commit", "-q", "-m", "Add login", in: blog)
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
    }

    @Test func preCommitRefusesAScriptSpecWithoutItsAgentScript() throws {
        let scratch = try Scratch()
        #expect(try devsys("init", scratch.path("blog")).status == 0)
        let blog = scratch.url.appendingPathComponent("blog")
        try scratch.write("blog/specs/002-login/task.yaml", validSpec(id: "002-login"))
        try git("add", "specs", in: blog)
        let commit = try gitResult("commit", "-m", "Add login", in: blog)
        #expect(commit.status != 0)
        #expect(commit.stderr.contains("specs/002-login:1:1: error: no agent.sh;"), "\(commit.stderr)")
        #expect(try git("rev-list", "--count", "HEAD", in: blog) == "1\n")
    }
}
