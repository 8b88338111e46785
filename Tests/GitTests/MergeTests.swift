import Foundation
import Git
import Testing

/// main and feature diverge from a common base; `conflicting` also changes feature's file on main.
struct DivergedHistory {
    let scratch: Scratch
    let path: String
    let base: ObjectID
    let ours: ObjectID
    let theirs: ObjectID

    init() throws {
        scratch = try Scratch()
        path = try scratch.gitInit("work")
        try scratch.write("shared\n", to: "shared.txt", in: path)
        base = try scratch.gitCommitAll("base", in: path, second: 1)
        try scratch.git(["-C", path, "checkout", "-q", "-b", "feature"])
        try scratch.write("feature\n", to: "feature.txt", in: path)
        try scratch.write("shared\nfrom feature\n", to: "shared.txt", in: path)
        theirs = try scratch.gitCommitAll("feature work", in: path, second: 2)
        try scratch.git(["-C", path, "checkout", "-q", "main"])
        try scratch.write("main\n", to: "main.txt", in: path)
        ours = try scratch.gitCommitAll("main work", in: path, second: 3)
    }
}

@Suite("Merging")
struct MergeTests {
    @Test("merge-base and is-ancestor agree with git merge-base")
    func mergeBaseAndAncestry() throws {
        let history = try DivergedHistory()
        defer { history.scratch.remove() }
        let repository = try Repository.open(at: history.path)
        #expect(try repository.mergeBase(history.ours, history.theirs) == history.base)
        #expect(
            try repository.mergeBase(history.ours, history.theirs)?.hex
                == (try history.scratch.git(["-C", history.path, "merge-base", "main", "feature"]))
        )
        for (a, b) in [(history.base, history.ours), (history.ours, history.base), (history.ours, history.theirs), (history.ours, history.ours)] {
            let git = try history.scratch.gitStatus(["-C", history.path, "merge-base", "--is-ancestor", a.hex, b.hex]) == 0
            #expect(try repository.isAncestor(a, of: b) == git, "\(a) ancestor of \(b)")
        }
        #expect(try repository.isAncestor(history.base, of: history.theirs))
        #expect(try !repository.isAncestor(history.theirs, of: history.base))

        let unrelated = try repository.createCommit(changes: ["x": .write("x".data)], parents: [], message: "orphan", author: robot)
        #expect(try repository.mergeBase(unrelated, history.ours) == nil)
        #expect(try !repository.isAncestor(unrelated, of: history.ours))
    }

    @Test("a clean merge makes a two-parent commit with both sides' content")
    func cleanMerge() throws {
        let history = try DivergedHistory()
        defer { history.scratch.remove() }
        let repository = try Repository.open(at: history.path)
        let result = try repository.merge(history.ours, history.theirs, message: "Merge feature", author: robot)
        guard case .merged(let merge) = result else {
            Issue.record("expected a merge, got \(result)")
            return
        }
        let commit = try repository.commit(merge)
        #expect(commit.parents == [history.ours, history.theirs])
        #expect(try repository.file(at: "main.txt", in: merge) == "main\n".data)
        #expect(try repository.file(at: "feature.txt", in: merge) == "feature\n".data)
        #expect(try repository.file(at: "shared.txt", in: merge) == "shared\nfrom feature\n".data)
        #expect(try history.scratch.rev(history.path, "main") == history.ours)
        // git's own merge of the same commits yields the same tree.
        try history.scratch.git(["-C", history.path, "merge", "-q", "--no-edit", "feature"], date: 4)
        #expect(try history.scratch.rev(history.path, "HEAD^{tree}") == commit.tree)
        try history.scratch.git(["-C", history.path, "fsck", "--strict", "--no-dangling"])
    }

    @Test("a conflicting merge reports the conflicting paths and writes nothing")
    func conflictingMerge() throws {
        let history = try DivergedHistory()
        defer { history.scratch.remove() }
        try history.scratch.write("shared\nfrom main\n", to: "shared.txt", in: history.path)
        try history.scratch.write("main's feature\n", to: "feature.txt", in: history.path)
        let ours = try history.scratch.gitCommitAll("main edits shared", in: history.path, second: 5)
        let repository = try Repository.open(at: history.path)
        let result = try repository.merge(ours, history.theirs, message: "Merge", author: robot)
        #expect(result == .conflicts(["feature.txt", "shared.txt"]))
        #expect(try history.scratch.rev(history.path, "main") == ours)
    }
}
