import Foundation
import Git
import Testing

@Suite("Notes on a custom notes ref")
struct NoteTests {
    @Test("git notes show agrees; overwrite replaces; remove deletes")
    func setOverwriteRemove() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        let ref = "refs/notes/devsys/tests"
        let report = "<testsuite tests=\"3\" failures=\"0\"/>\n"
        #expect(try repository.note(on: sample.commits[1], notesRef: ref) == nil)

        try repository.setNote(report, on: sample.commits[1], notesRef: ref, author: robot)
        #expect(try sample.scratch.git(["-C", sample.path, "notes", "--ref=devsys/tests", "show", sample.commits[1].hex]) + "\n" == report)
        #expect(try repository.note(on: sample.commits[1], notesRef: ref) == report)
        let firstTip = try #require(try repository.reference(named: ref))

        let refused = gitError { try repository.setNote("other", on: sample.commits[1], notesRef: ref, author: robot, overwrite: false) }
        #expect(refused?.kind == .exists)
        #expect(try repository.reference(named: ref) == firstTip)

        try repository.setNote("failed\n", on: sample.commits[1], notesRef: ref, author: robot)
        #expect(try sample.scratch.git(["-C", sample.path, "notes", "--ref=devsys/tests", "show", sample.commits[1].hex]) == "failed")
        #expect(try sample.scratch.rev(sample.path, ref + "~1") == firstTip)

        // git adds a note too; both are listed.
        try sample.scratch.git(["-C", sample.path, "notes", "--ref=devsys/tests", "add", "-m", "from git", sample.commits[0].hex])
        #expect(try repository.notes(notesRef: ref) == [sample.commits[1]: "failed\n", sample.commits[0]: "from git\n"])

        try repository.removeNote(on: sample.commits[1], notesRef: ref, author: robot)
        #expect(try sample.scratch.gitStatus(["-C", sample.path, "notes", "--ref=devsys/tests", "show", sample.commits[1].hex]) != 0)
        #expect(try repository.note(on: sample.commits[1], notesRef: ref) == nil)
        #expect(try repository.notes(notesRef: ref) == [sample.commits[0]: "from git\n"])
        #expect(gitError { try repository.removeNote(on: sample.commits[1], notesRef: ref, author: robot) }?.kind == .notFound)
        #expect(try repository.notes(notesRef: "refs/notes/devsys/none").isEmpty)
        #expect(try sample.scratch.git(["-C", sample.path, "log", "-1", "--format=%an", ref]) == "Devsys Robot")
        try sample.scratch.git(["-C", sample.path, "fsck", "--strict", "--no-dangling"])
    }

    @Test("notes written by two repositories at once both land")
    func concurrentWritersBothLand() async throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let ref = "refs/notes/devsys/reviews"
        let path = sample.path
        let commits = sample.commits
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    let repository = try Repository.open(at: path)
                    for (index, commit) in commits.enumerated() {
                        try repository.setNote("writer \(writer) on \(index)\n", on: commit, notesRef: ref, author: robot)
                    }
                }
            }
            try await group.waitForAll()
        }
        let notes = try Repository.open(at: path).notes(notesRef: ref)
        #expect(Set(notes.keys) == Set(commits))
        let history = try sample.scratch.git(["-C", path, "log", "--format=%H %P %s", ref])
        #expect(try sample.scratch.git(["-C", path, "rev-list", "--count", ref]) == "6", "\(history)")
    }
}
