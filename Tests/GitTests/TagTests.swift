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
