import Foundation
import Git
import Testing

@Suite("Writing commits without a work tree")
struct CommitWriteTests {
    @Test("commits onto a bare repository: git reads the content, modes are kept, fsck --strict is clean")
    func commitOntoBareRepository() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path("control.git")
        let repository = try Repository.create(at: path, bare: true)
        let author = Signature(name: "Ada Author", email: "ada@example.com", time: Date(timeIntervalSince1970: 1_700_000_123))

        let first = try repository.commit(
            changes: [
                "specs/42/task.yaml": .write("id: 42\n".data),
                "bin/deploy.sh": .write("#!/bin/sh\necho deploy\n".data, mode: .executable),
                "current": .write("specs/42".data, mode: .symlink),
            ],
            onto: "refs/heads/main",
            parent: nil,
            message: "Add task 42\n",
            author: author
        )
        #expect(try scratch.rev(path, "refs/heads/main") == first)
        #expect(try scratch.git(["-C", path, "cat-file", "-p", "main:specs/42/task.yaml"]) == "id: 42")
        let modes = try scratch.git(["-C", path, "ls-tree", "-r", "--format=%(objectmode) %(path)", "main"])
        #expect(modes == "100755 bin/deploy.sh\n120000 current\n100644 specs/42/task.yaml")
        let header = try scratch.git(["-C", path, "cat-file", "-p", first.hex])
        #expect(header.contains("author Ada Author <ada@example.com> 1700000123"))
        #expect(header.contains("committer Ada Author <ada@example.com> 1700000123"))
        #expect(!header.contains("parent "))
        #expect(try scratch.git(["-C", path, "log", "-1", "--format=%B", "main"]) == "Add task 42\n")

        let second = try repository.commit(
            changes: ["specs/42/task.yaml": .write("id: 42\ntitle: Login\n".data), "bin/deploy.sh": .delete, "docs/a.md": .write(Data())],
            onto: "refs/heads/main",
            parent: first,
            message: "Edit task 42",
            author: author,
            committer: robot
        )
        #expect(try scratch.rev(path, "main") == second)
        #expect(try scratch.rev(path, "main~1") == first)
        #expect(try scratch.git(["-C", path, "ls-tree", "-r", "--name-only", "main"]) == "current\ndocs/a.md\nspecs/42/task.yaml")
        #expect(try scratch.git(["-C", path, "log", "-1", "--format=%cn <%ce>", "main"]) == "Devsys Robot <robot@devsys.test>")
        #expect(try repository.file(at: "specs/42/task.yaml", in: second) == "id: 42\ntitle: Login\n".data)
        try scratch.git(["-C", path, "fsck", "--strict", "--no-dangling"])
    }

    @Test("createCommit writes a commit object on the first parent's tree and moves no ref")
    func createCommitMovesNoRef() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let id = try repository.createCommit(
            changes: ["README.md": .write("# Changed\n".data)],
            parents: [sample.commits[2], sample.commits[0]],
            message: "Two parents",
            author: robot
        )
        #expect(try sample.scratch.rev(sample.path, "main") == sample.commits[2])
        #expect(try sample.scratch.git(["-C", sample.path, "rev-list", "--parents", "-1", id.hex]).split(separator: " ").count == 3)
        #expect(try repository.tree(of: id).map(\.path) == ["README.md", "app/index.php", "bin/run.sh", "docs/guide.md"])
        #expect(try sample.scratch.git(["-C", sample.path, "show", "\(id.hex):README.md"]) == "# Changed")
        try sample.scratch.git(["-C", sample.path, "fsck", "--strict", "--no-dangling"])
    }

    @Test("a commit onto a branch that moved meanwhile is refused and the branch keeps git's value")
    func commitLosesRace() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let error = gitError {
            try repository.commit(
                changes: ["x": .write("x".data)],
                onto: "refs/heads/main",
                parent: sample.commits[1],
                message: "stale",
                author: robot
            )
        }
        #expect(error?.kind == .modified)
        #expect(error?.function == "git_transaction_lock_ref")
        #expect(error?.message.contains("expected it at") == true)
        #expect(try sample.scratch.rev(sample.path, "main") == sample.commits[2])
        let rootError = gitError {
            try repository.commit(changes: ["x": .write("x".data)], onto: "refs/heads/main", parent: nil, message: "root", author: robot)
        }
        #expect(rootError?.kind == .exists)
    }

    @Test("paths that are not clean relative paths are refused before reaching libgit2")
    func badPathsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let repository = try Repository.create(at: scratch.path("r.git"), bare: true)
        for bad in ["", "/etc/passwd", "a/../b", "../a", "a//b", "a/", "./a", "a/./b", ".git/config", "x/.GIT/y"] {
            let error = gitError {
                try repository.commit(changes: [bad: .write("x".data)], onto: "refs/heads/main", parent: nil, message: "m", author: robot)
            }
            #expect(error?.kind == .invalidPath, "path '\(bad)'")
            #expect(error?.description.contains("invalid path '\(bad)'") == true)
        }
        #expect(try repository.reference(named: "refs/heads/main") == nil)
        let good = try repository.commit(changes: ["ok.txt": .write("x".data)], onto: "refs/heads/main", parent: nil, message: "m", author: robot)
        #expect(gitError { _ = try repository.file(at: "/ok.txt", in: good) }?.kind == .invalidPath)
        #expect(gitError { _ = try repository.file(at: "a/../ok.txt", in: good) }?.kind == .invalidPath)
        #expect(
            gitError {
                _ = try repository.createCommit(changes: ["dir": .write(Data(), mode: .directory)], parents: [good], message: "m", author: robot)
            }?.kind == .invalidPath
        )
    }

    @Test("deleting a path that is not there is refused")
    func deleteMissingPath() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let repository = try Repository.create(at: scratch.path("r.git"), bare: true)
        let root = try repository.commit(changes: ["a.txt": .write("a".data)], onto: "refs/heads/main", parent: nil, message: "m", author: robot)
        let error = gitError { _ = try repository.createCommit(changes: ["b.txt": .delete], parents: [root], message: "m", author: robot) }
        #expect(error?.kind == .notFound)
        #expect(error?.message.contains("b.txt") == true)
    }

    @Test("nested changes: a folder emptied by deletes disappears, untouched entries keep their bytes")
    func nestedTreeRewrite() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.gitInit("r.git", bare: true)
        // A tree made by git with a non-UTF-8 file name and a submodule entry, which devsys must copy as is.
        let blob = try scratch.git(["-C", path, "hash-object", "-w", "--stdin"], input: "odd\n")
        let inner = try scratch.git(["-C", path, "mktree"], input: "100644 blob \(blob)\tkeep.txt\n")
        let submodule = "1234567890abcdef1234567890abcdef12345678"
        var rootListing = Data("100644 blob \(blob)\tcaf".utf8) + [0xFF] + Data(".txt\n".utf8)
        rootListing += Data("100644 blob \(blob)\tplain.txt\n040000 tree \(inner)\tdocs\n160000 commit \(submodule)\tvendor\n".utf8)
        let root = try scratch.git(["-C", path, "mktree"], bytes: rootListing)
        let base = try scratch.git(["-C", path, "commit-tree", root, "-m", "base"])
        let baseID = try #require(ObjectID(hex: base))
        try scratch.git(["-C", path, "update-ref", "refs/heads/main", base])

        let repository = try Repository.open(at: path)
        let next = try repository.commit(
            changes: [
                "docs/keep.txt": .delete,
                "deep/er/still/file.txt": .write("deep".data),
                "plain.txt": .write("changed".data),
            ],
            onto: "refs/heads/main",
            parent: baseID,
            message: "nested",
            author: robot
        )
        let listed = try scratch.git(["-C", path, "-c", "core.quotePath=true", "ls-tree", "-r", "--format=%(objectmode) %(path)", "main"])
        #expect(listed == "100644 \"caf\\377.txt\"\n100644 deep/er/still/file.txt\n100644 plain.txt\n160000 vendor")
        #expect(try scratch.rev(path, "main:vendor").hex == submodule)
        #expect(try repository.file(at: "deep/er/still/file.txt", in: next) == "deep".data)
        #expect(try repository.file(at: "plain.txt", in: next) == "changed".data)
        try scratch.git(["-C", path, "fsck", "--strict", "--no-dangling"])
    }

    @Test("the trees devsys writes are byte for byte the trees git writes")
    func treesMatchGit() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let work = try scratch.gitInit("work")
        let files: [String: (String, Bool)] = [
            "a.txt": ("a", false), "a-b/x": ("x", false), "a/b": ("b", true), "a.b/c": ("c", false), "A": ("upper", false), "z/y/x/w": ("w", false),
        ]
        for (path, (content, executable)) in files { try scratch.write(content, to: path, in: work, executable: executable) }
        let gitCommit = try scratch.gitCommitAll("all", in: work, second: 1)
        let repository = try Repository.open(at: work)
        let ours = try repository.createCommit(
            changes: files.mapValues { .write($0.0.data, mode: $0.1 ? .executable : .regular) },
            parents: [],
            message: "all",
            author: robot
        )
        #expect(try repository.treeID(of: ours) == (try repository.treeID(of: gitCommit)))
    }
}
