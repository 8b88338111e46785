import Foundation
import Testing

@Suite struct InitTests {
    @Test func initCreatesAControlRepositoryWithOneCommitAndHooks() throws {
        let scratch = try Scratch()
        let result = try devsys("init", scratch.path("blog"))
        #expect(result.status == 0, "\(result.stderr)")
        let blog = scratch.url.appendingPathComponent("blog")

        let log = try git("log", "--format=%s", "main", in: blog)
        #expect(log == "Start a devsys control repository\n")
        #expect(try git("status", "--porcelain", in: blog).isEmpty, "the work tree matches the commit")
        #expect(try git("fsck", "--strict", in: blog).isEmpty)
        let files = try git("ls-tree", "-r", "--name-only", "main", in: blog).split(separator: "\n")
        for expected in ["devsys.yaml", "specs/001-about-page/task.yaml", "monitoring/checks.yaml", "app/index.php", "tests/run.php"] {
            #expect(files.contains(Substring(expected)), "\(expected) is in the first commit")
        }
        #expect(try git("ls-tree", "main", "specs/001-about-page/agent.sh", in: blog).hasPrefix("100755"))

        for hook in ["pre-commit", "pre-receive"] {
            let path = blog.appendingPathComponent(".git/hooks/\(hook)").path
            #expect(FileManager.default.isExecutableFile(atPath: path))
            let script = try String(contentsOfFile: path, encoding: .utf8)
            #expect(script.contains("devsys='\(devsysBinary)'"), "the hook calls this binary by absolute path")
        }

        let validate = try devsys("validate", in: blog)
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        #expect(validate.stdout.contains("1 spec checked: valid"))
    }

    @Test func initBareHasMainAndNoWorkTree() throws {
        let scratch = try Scratch()
        #expect(try devsys("init", "--bare", scratch.path("blog.git")).status == 0)
        let bare = scratch.url.appendingPathComponent("blog.git")
        #expect(try git("rev-parse", "--is-bare-repository", in: bare) == "true\n")
        #expect(try git("rev-list", "--count", "main", in: bare) == "1\n")
        #expect(FileManager.default.isExecutableFile(atPath: bare.appendingPathComponent("hooks/pre-receive").path))
        let validate = try devsys("validate", "--repo", bare.path)
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
    }

    @Test func initRefusesAFolderThatIsNotEmpty() throws {
        let scratch = try Scratch()
        try scratch.write("blog/notes.txt", "mine")
        let result = try devsys("init", scratch.path("blog"))
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(scratch.path("blog")) already exists and is not empty"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("blog")) == ["notes.txt"], "nothing written")
    }

    @Test func helpTeachesEveryCommand() throws {
        let root = try devsys("--help")
        #expect(root.status == 0)
        for command in ["init", "validate", "hooks"] { #expect(root.stdout.contains(command)) }
        let validate = try devsys("validate", "--help")
        #expect(validate.status == 0)
        #expect(validate.stdout.contains("--rev"))
        #expect(validate.stdout.contains("path:line:column"))
        #expect(try devsys("hooks", "install", "--help").stdout.contains("--force"))
    }

    @Test func usageErrorsExitWithTwo() throws {
        let unknown = try devsys("frobnicate")
        #expect(unknown.status == 2)
        let conflicting = try devsys("validate", "--staged", "--rev", "main")
        #expect(conflicting.status == 2)
        #expect(conflicting.stderr.contains("use one of --rev (with --ref for hooks), --ref, --staged or paths"))
    }

    @Test func hooksInstallKeepsSomeoneElsesHookUnlessForced() throws {
        let scratch = try Scratch()
        try git("init", "-q", scratch.path("plain"), in: scratch.url)
        let plain = scratch.url.appendingPathComponent("plain")
        try scratch.write("plain/.git/hooks/pre-commit", "#!/bin/sh\necho mine\n")
        let refused = try devsys("hooks", "install", in: plain)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("was not written by devsys"))
        #expect(try String(contentsOfFile: scratch.path("plain/.git/hooks/pre-commit"), encoding: .utf8) == "#!/bin/sh\necho mine\n")
        let forced = try devsys("hooks", "install", "--force", in: plain)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOfFile: scratch.path("plain/.git/hooks/pre-commit"), encoding: .utf8).contains("devsys pre-commit hook"))
        #expect(try devsys("hooks", "install", in: plain).status == 0, "reinstalling over devsys's own hooks needs no --force")
    }
}
