import Foundation
import Git
import Testing

@Suite("References with compare-and-swap")
struct ReferenceTests {
    @Test("an update with a stale expected value is detected and the ref keeps git's value")
    func concurrentUpdateDetected() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let env = "refs/heads/env/prod"
        try repository.updateReference(env, to: sample.commits[0], expecting: nil, message: "create env")
        #expect(try sample.scratch.rev(sample.path, env) == sample.commits[0])
        let seen = try #require(try repository.reference(named: env))

        // Someone else moves the ref with git in between.
        try sample.scratch.git(["-C", sample.path, "update-ref", env, sample.commits[1].hex, sample.commits[0].hex])

        let error = gitError { try repository.updateReference(env, to: sample.commits[2], expecting: seen, message: "deploy") }
        #expect(error?.kind == .modified)
        #expect(error?.code == -15)
        #expect(error?.function == "git_transaction_lock_ref")
        #expect(error?.message.contains("expected it at") == true)
        #expect(try sample.scratch.rev(sample.path, env) == sample.commits[1])

        try repository.updateReference(env, to: sample.commits[2], expecting: sample.commits[1], message: "deploy")
        #expect(try sample.scratch.rev(sample.path, env) == sample.commits[2])
        let reflog = try sample.scratch.git(["-C", sample.path, "reflog", "show", "--format=%gs", env])
        #expect(reflog.hasPrefix("deploy"))
    }

    @Test("create-only refuses an existing ref; a deleted ref counts as moved")
    func createOnlyAndVanished() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let error = gitError { try repository.updateReference("refs/heads/main", to: sample.commits[0], expecting: nil, message: "m") }
        #expect(error?.kind == .exists)
        #expect(try sample.scratch.rev(sample.path, "main") == sample.commits[2])

        try sample.scratch.git(["-C", sample.path, "branch", "gone", sample.commits[0].hex])
        try sample.scratch.git(["-C", sample.path, "branch", "-D", "gone"])
        let vanished = gitError {
            try repository.updateReference("refs/heads/gone", to: sample.commits[1], expecting: sample.commits[0], message: "m")
        }
        #expect(vanished?.kind == .modified)
        #expect(try sample.scratch.gitStatus(["-C", sample.path, "rev-parse", "--verify", "-q", "refs/heads/gone"]) != 0)
    }

    @Test("delete only removes a ref still at the expected value")
    func deleteWithExpectedValue() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        try sample.scratch.git(["-C", sample.path, "branch", "task/7", sample.commits[1].hex])
        let stale = gitError { try repository.deleteReference("refs/heads/task/7", expecting: sample.commits[0]) }
        #expect(stale?.kind == .modified)
        #expect(try sample.scratch.rev(sample.path, "refs/heads/task/7") == sample.commits[1])

        try repository.deleteReference("refs/heads/task/7", expecting: sample.commits[1])
        #expect(try sample.scratch.gitStatus(["-C", sample.path, "rev-parse", "--verify", "-q", "refs/heads/task/7"]) != 0)
        #expect(try repository.reference(named: "refs/heads/task/7") == nil)
        #expect(gitError { try repository.deleteReference("refs/heads/task/7", expecting: sample.commits[1]) }?.kind == .notFound)
    }

    @Test("references(withPrefix:) lists loose and packed refs below a prefix, sorted")
    func listByPrefix() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        for (name, commit) in [("task/b", 0), ("task/a", 1), ("task/nested/c", 2), ("tasks-other", 0)] {
            try sample.scratch.git(["-C", sample.path, "branch", name, sample.commits[commit].hex])
        }
        try sample.scratch.git(["-C", sample.path, "pack-refs", "--all"])
        try sample.scratch.git(["-C", sample.path, "branch", "task/d", sample.commits[2].hex])
        let refs = try repository.references(withPrefix: "refs/heads/task/")
        #expect(refs.map(\.name) == ["refs/heads/task/a", "refs/heads/task/b", "refs/heads/task/d", "refs/heads/task/nested/c"])
        #expect(refs.map(\.target) == [sample.commits[1], sample.commits[0], sample.commits[2], sample.commits[2]])
        #expect(try repository.reference(named: "refs/heads/task/a") == sample.commits[1])
        #expect(try repository.reference(named: "HEAD") == sample.commits[2])
        #expect(try repository.references(withPrefix: "refs/heads/nothing/").isEmpty)
    }
}
