import Foundation
import Git
import Testing

@Suite("Annotated tags")
struct TagTests {
    @Test("an annotated tag shows tagger and message in git, and is never overwritten")
    func createAndRead() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let message = "Deploy 0001\n\ntasks: 42\nhosts: web1\n"
        let id = try repository.createAnnotatedTag(named: "deploy/prod/0001", target: sample.commits[1], tagger: robot, message: message)

        let shown = try sample.scratch.git(["-C", sample.path, "cat-file", "-p", "refs/tags/deploy/prod/0001"])
        #expect(shown.contains("object \(sample.commits[1])"))
        #expect(shown.contains("tag deploy/prod/0001"))
        #expect(shown.contains("tagger Devsys Robot <robot@devsys.test> 1700100000"))
        #expect(shown.hasSuffix("tasks: 42\nhosts: web1"))
        #expect(try sample.scratch.rev(sample.path, "deploy/prod/0001") == id)
        #expect(try sample.scratch.rev(sample.path, "deploy/prod/0001^{commit}") == sample.commits[1])

        let again = gitError { try repository.createAnnotatedTag(named: "deploy/prod/0001", target: sample.commits[2], tagger: robot, message: "x") }
        #expect(again?.kind == .exists)
        #expect(try sample.scratch.rev(sample.path, "deploy/prod/0001^{commit}") == sample.commits[1])

        let tag = try #require(try repository.annotatedTag(named: "deploy/prod/0001"))
        #expect(tag.name == "deploy/prod/0001")
        #expect(tag.id == id)
        #expect(tag.target == sample.commits[1])
        #expect(tag.tagger == robot)
        #expect(tag.message == message)
        #expect(try repository.annotatedTag(named: "deploy/prod/9999") == nil)
        try sample.scratch.git(["-C", sample.path, "fsck", "--strict", "--no-dangling"])
    }

    @Test("a lock a killed writer left is broken once it is stale; a fresh one is respected")
    func staleLocks() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let folder = repository.gitDirectory.appendingPathComponent("refs/tags/deploy/prod")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lock = folder.appendingPathComponent("0001.lock").path
        #expect(FileManager.default.createFile(atPath: lock, contents: nil))

        let fresh = gitError {
            try repository.createAnnotatedTag(named: "deploy/prod/0001", target: sample.commits[1], tagger: robot, message: "x\n")
        }
        #expect(fresh?.kind == .locked, "a lock that may have a live writer stands")

        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: lock)
        try repository.createAnnotatedTag(named: "deploy/prod/0001", target: sample.commits[1], tagger: robot, message: "x\n")
        #expect(try sample.scratch.rev(sample.path, "deploy/prod/0001^{commit}") == sample.commits[1])
        #expect(!FileManager.default.fileExists(atPath: lock))

        // The same for a ref moved with compare-and-swap (an env ref, the notes, the trunk).
        try repository.updateReference("refs/heads/env/prod", to: sample.commits[2], expecting: nil, message: "test: promote")
        let branchLock = repository.gitDirectory.appendingPathComponent("refs/heads/env/prod.lock").path
        #expect(FileManager.default.createFile(atPath: branchLock, contents: nil))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: branchLock)
        try repository.updateReference("refs/heads/env/prod", to: sample.commits[1], expecting: sample.commits[2], message: "test: back one")
        #expect(try sample.scratch.rev(sample.path, "refs/heads/env/prod") == sample.commits[1])
    }

    @Test("annotatedTags(withPrefix:) lists one environment's tags, sorted, skipping lightweight tags")
    func listByPrefix() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        try repository.createAnnotatedTag(named: "deploy/prod/0002", target: sample.commits[2], tagger: robot, message: "second")
        try repository.createAnnotatedTag(named: "deploy/prod/0001", target: sample.commits[1], tagger: robot, message: "first")
        try repository.createAnnotatedTag(named: "deploy/staging/0001", target: sample.commits[0], tagger: robot, message: "staging")
        try sample.scratch.git(["-C", sample.path, "tag", "deploy/prod/light", sample.commits[0].hex])
        let prod = try repository.annotatedTags(withPrefix: "deploy/prod/")
        #expect(prod.map(\.name) == ["deploy/prod/0001", "deploy/prod/0002"])
        #expect(prod.map(\.target) == [sample.commits[1], sample.commits[2]])
        #expect(prod.map(\.message) == ["first", "second"])
        #expect(try repository.annotatedTag(named: "deploy/prod/light") == nil)
        #expect(try repository.annotatedTags(withPrefix: "").map(\.name) == ["deploy/prod/0001", "deploy/prod/0002", "deploy/staging/0001", "v1"])
    }
}
