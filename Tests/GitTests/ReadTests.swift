import Foundation
import Git
import Testing

/// A work tree with three commits made by the git CLI and an annotated tag `v1` on the second:
/// 1. README.md, app/index.php, app/lib/util.php
/// 2. app/index.php changed, bin/run.sh added (executable)
/// 3. app/lib/util.php deleted, docs/guide.md added
struct SampleHistory {
    let scratch: Scratch
    let path: String
    let commits: [ObjectID]

    init() throws {
        scratch = try Scratch()
        path = try scratch.gitInit("sample")
        try scratch.write("# Sample\n", to: "README.md", in: path)
        try scratch.write("<?php echo 1;\n", to: "app/index.php", in: path)
        try scratch.write("<?php function util() {}\n", to: "app/lib/util.php", in: path)
        let first = try scratch.gitCommitAll("Start the app\n\nWith a body.", in: path, second: 1)
        try scratch.write("<?php echo 2;\n", to: "app/index.php", in: path)
        try scratch.write("#!/bin/sh\necho run\n", to: "bin/run.sh", in: path, executable: true)
        let second = try scratch.gitCommitAll("Add the runner", in: path, second: 2)
        try scratch.git(["-C", path, "tag", "-a", "v1", "-m", "Version 1"], date: 2)
        try FileManager.default.removeItem(atPath: path + "/app/lib/util.php")
        try scratch.write("Read me\n", to: "docs/guide.md", in: path)
        let third = try scratch.gitCommitAll("Document", in: path, second: 3)
        commits = [first, second, third]
    }
}

@Suite("Reading objects")
struct ReadTests {
    @Test("resolve agrees with git rev-parse on HEAD~1, branches, short ids and tags")
    func resolveRevisions() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let shortID = String(sample.commits[0].hex.prefix(8))
        for revision in ["HEAD", "HEAD~1", "HEAD^^", "main", "refs/heads/main", shortID, "v1", "v1^{commit}", "main@{0}"] {
            #expect(try repository.resolve(revision) == sample.scratch.rev(sample.path, revision + "^{commit}"), "revision \(revision)")
        }
        #expect(try repository.resolve("v1") == sample.commits[1])
        let missing = gitError { _ = try repository.resolve("no-such-branch") }
        #expect(missing?.kind == .notFound)
        #expect(missing?.function == "git_revparse_single")
        #expect(gitError { _ = try repository.resolve("HEAD~9") }?.kind == .notFound)
    }

    @Test("a commit copies out what git log shows")
    func readCommit() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let commit = try repository.commit(sample.commits[1])
        let fields = try sample.scratch.git([
            "-C", sample.path, "log", "-1", "--format=%T%n%P%n%an%n%ae%n%at%n%cn%n%ce%n%ct%n%s", sample.commits[1].hex,
        ])
        .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(commit.id == sample.commits[1])
        #expect(commit.tree.hex == fields[0])
        #expect(commit.parents.map(\.hex) == [fields[1]])
        #expect(commit.author.name == fields[2])
        #expect(commit.author.email == fields[3])
        #expect(commit.author.time == Date(timeIntervalSince1970: TimeInterval(fields[4]) ?? 0))
        #expect(commit.committer.name == fields[5])
        #expect(commit.committer.email == fields[6])
        #expect(commit.committer.time.timeIntervalSince1970 == TimeInterval(fields[7]))
        #expect(commit.summary == fields[8])
        let root = try repository.commit(sample.commits[0])
        #expect(root.parents.isEmpty)
        #expect(root.summary == "Start the app")
        #expect(root.message == "Start the app\n\nWith a body.\n")
        #expect(try repository.treeID(of: sample.commits[1]) == commit.tree)
        #expect(gitError { _ = try repository.commit(ObjectID.zero) }?.kind == .notFound)
    }

    @Test("file(at:in:) reads a file of a commit; a missing path or a folder is nil")
    func readFile() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        #expect(try repository.file(at: "app/index.php", in: sample.commits[0]) == "<?php echo 1;\n".data)
        #expect(try repository.file(at: "app/index.php", in: sample.commits[2]) == "<?php echo 2;\n".data)
        #expect(try repository.file(at: "app/lib/util.php", in: sample.commits[2]) == nil)
        #expect(try repository.file(at: "nothing/here.txt", in: sample.commits[2]) == nil)
        #expect(try repository.file(at: "app", in: sample.commits[2]) == nil)
        #expect(try repository.file(at: "README.md/inside", in: sample.commits[2]) == nil)
        let id = try sample.scratch.rev(sample.path, "HEAD:bin/run.sh")
        #expect(try repository.blob(id) == "#!/bin/sh\necho run\n".data)
        #expect(try repository.blobSize(id) == 19)
        #expect(try repository.blobSize(id) == Int(sample.scratch.git(["-C", sample.path, "cat-file", "-s", id.hex])))
    }

    @Test("tree lists like git ls-tree: recursive, one level, under a folder")
    func listTree() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let head = sample.commits[2]

        let all = try repository.tree(of: head)
        #expect(all.map(\.path) == ["README.md", "app/index.php", "bin/run.sh", "docs/guide.md"])
        let lsTree = try sample.scratch.git(["-C", sample.path, "ls-tree", "-r", "--format=%(path) %(objectname)", "HEAD"])
        #expect(all.map { "\($0.path) \($0.id)" }.joined(separator: "\n") == lsTree)
        #expect(all.first { $0.path == "bin/run.sh" }?.mode == .executable)
        #expect(all.first { $0.path == "README.md" }?.mode == .regular)

        let top = try repository.tree(of: head, recursive: false)
        #expect(top.map(\.path) == ["README.md", "app", "bin", "docs"])
        #expect(top.first { $0.path == "app" }?.mode == .directory)

        let app = try repository.tree(of: sample.commits[0], under: "app")
        #expect(app.map(\.path) == ["app/index.php", "app/lib/util.php"])
        #expect(try repository.tree(of: sample.commits[0], under: "app/", recursive: false).map(\.path) == ["app/index.php", "app/lib"])
        #expect(try repository.tree(of: head, under: "missing").isEmpty)
        #expect(try repository.tree(of: head, under: "README.md").isEmpty)
        #expect(gitError { _ = try repository.tree(of: head, under: "../etc") }?.kind == .invalidPath)
    }

    @Test("diff reports added, modified and deleted paths like git diff-tree")
    func diffCommits() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let changes = try repository.diff(from: sample.commits[0], to: sample.commits[2])
        #expect(changes.map(\.path) == ["app/index.php", "app/lib/util.php", "bin/run.sh", "docs/guide.md"])
        #expect(changes.map(\.status) == [.modified, .deleted, .added, .added])
        let gitView = try sample.scratch.git([
            "-C", sample.path, "diff-tree", "-r", "--no-renames", "--name-status", sample.commits[0].hex, sample.commits[2].hex,
        ])
        let statusLetter: [TreeChange.Status: String] = [.added: "A", .modified: "M", .deleted: "D"]
        #expect(changes.map { "\(statusLetter[$0.status] ?? "?")\t\($0.path)" }.joined(separator: "\n") == gitView)

        let deleted = try #require(changes.first { $0.status == .deleted })
        #expect(deleted.newID == nil)
        #expect(deleted.oldID == (try sample.scratch.rev(sample.path, "\(sample.commits[0].hex):app/lib/util.php")))
        let modified = try #require(changes.first { $0.status == .modified })
        #expect(modified.oldID != nil && modified.newID != nil && modified.oldID != modified.newID)

        let fromNothing = try repository.diff(from: nil, to: sample.commits[0])
        #expect(fromNothing.map(\.path) == ["README.md", "app/index.php", "app/lib/util.php"])
        #expect(fromNothing.allSatisfy { $0.status == .added && $0.oldID == nil })
        #expect(try repository.diff(fromTree: nil, toTree: nil).isEmpty)
        let tree = try repository.treeID(of: sample.commits[2])
        #expect(try repository.diff(fromTree: tree, toTree: nil).count == 4)
    }

    @Test("headCommit follows HEAD; stagedTree writes the index like git write-tree")
    func headAndStagedTree() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        #expect(try repository.headCommit() == sample.commits[2])

        try sample.scratch.write("staged\n", to: "new/file.txt", in: sample.path)
        try sample.scratch.git(["-C", sample.path, "add", "new/file.txt"])
        let staged = try repository.stagedTree()
        #expect(staged.hex == (try sample.scratch.git(["-C", sample.path, "write-tree"])))
        #expect(staged != (try repository.treeID(of: sample.commits[2])))

        // A separate index named by GIT_INDEX_FILE, as git sets it inside hooks.
        let otherIndex = sample.scratch.path("other-index")
        try sample.scratch.git(["-C", sample.path, "read-tree", sample.commits[0].hex], environment: ["GIT_INDEX_FILE": otherIndex])
        #expect(try repository.stagedTree(environment: ["GIT_INDEX_FILE": otherIndex]) == (try repository.treeID(of: sample.commits[0])))
    }

    @Test("stagedTree refuses an index with merge conflicts")
    func stagedTreeWithConflicts() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let work = try scratch.gitInit("work")
        try scratch.write("base\n", to: "file.txt", in: work)
        try scratch.gitCommitAll("base", in: work, second: 1)
        try scratch.git(["-C", work, "checkout", "-q", "-b", "other"])
        try scratch.write("theirs\n", to: "file.txt", in: work)
        try scratch.gitCommitAll("theirs", in: work, second: 2)
        try scratch.git(["-C", work, "checkout", "-q", "main"])
        try scratch.write("ours\n", to: "file.txt", in: work)
        try scratch.gitCommitAll("ours", in: work, second: 3)
        #expect(try scratch.gitStatus(["-C", work, "merge", "-q", "other"]) != 0)
        let error = gitError { _ = try Repository.open(at: work).stagedTree() }
        #expect(error?.kind == .conflict)
    }
}
