import CGit2
import Foundation

extension Repository {
    /// How often a note write is retried when another writer moved the notes ref meanwhile.
    static let noteWriteAttempts = 8

    /// The note on `object` in `notesRef` (e.g. `refs/notes/devsys/tests`); nil when there is none
    /// or the notes ref does not exist. Throws `GitError` when the notes cannot be read.
    public func note(on object: ObjectID, notesRef: String) throws -> String? {
        var oid = object.oid
        var note: OpaquePointer?
        let code = git_note_read(&note, pointer, notesRef, &oid)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(code, "git_note_read")
        defer { git_note_free(note) }
        return note.flatMap { git_note_message($0) }.map { String(cString: $0) } ?? ""
    }

    /// Adds or replaces (when `overwrite`) the note on `object`, stored exactly as given. The notes
    /// ref moves with compare-and-swap, retried a few times if another writer moves it meanwhile.
    /// Throws `GitError`: `.exists` when there is a note and `overwrite` is false, `.modified` when
    /// every attempt lost the race.
    public func setNote(_ text: String, on object: ObjectID, notesRef: String, author: Signature, overwrite: Bool = true) throws {
        var oid = object.oid
        try updateNotes(notesRef, message: "Notes added by devsys", author: author) { parent in
            var notesCommit = git_oid()
            var blob = git_oid()
            try author.withGitSignature { signature in
                try check(
                    git_note_commit_create(&notesCommit, &blob, pointer, parent, signature, signature, &oid, text, overwrite ? 1 : 0),
                    "git_note_commit_create"
                )
            }
            return notesCommit
        }
    }

    /// Removes the note on `object`, moving the notes ref with compare-and-swap (retried like
    /// `setNote`). Throws `GitError`: `.notFound` when there is no note.
    public func removeNote(on object: ObjectID, notesRef: String, author: Signature) throws {
        var oid = object.oid
        try updateNotes(notesRef, message: "Notes removed by devsys", author: author) { parent in
            guard let parent else {
                throw GitError(
                    code: GIT_ENOTFOUND.rawValue,
                    errorClass: Int32(GIT_ERROR_REFERENCE.rawValue),
                    message: "notes ref '\(notesRef)' does not exist",
                    function: "git_note_commit_remove"
                )
            }
            var notesCommit = git_oid()
            try author.withGitSignature { signature in
                try check(git_note_commit_remove(&notesCommit, pointer, parent, signature, signature, &oid), "git_note_commit_remove")
            }
            return notesCommit
        }
    }

    /// Every note in `notesRef`: annotated object → note text. Empty when the ref does not exist.
    /// Throws `GitError` when the notes cannot be read.
    public func notes(notesRef: String) throws -> [ObjectID: String] {
        var iterator: OpaquePointer?
        let code = git_note_iterator_new(&iterator, pointer, notesRef)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return [:]
        }
        try check(code, "git_note_iterator_new")
        defer { git_note_iterator_free(iterator) }
        var notes: [ObjectID: String] = [:]
        while true {
            var blob = git_oid()
            var annotated = git_oid()
            let code = git_note_next(&blob, &annotated, iterator)
            if code == GIT_ITEROVER.rawValue {
                git_error_clear()
                return notes
            }
            try check(code, "git_note_next")
            notes[ObjectID(annotated)] = String(decoding: try self.blob(ObjectID(blob)), as: UTF8.self)
        }
    }

    /// Builds a new notes commit on the current tip (nil when the ref is new) and moves the ref to
    /// it with compare-and-swap, starting over when another writer got there first.
    private func updateNotes(_ notesRef: String, message: String, author: Signature, _ makeCommit: (OpaquePointer?) throws -> git_oid) throws {
        var attempt = 1
        while true {
            let tip = try reference(named: notesRef)
            let newTip: ObjectID
            if let tip {
                newTip = try withCommit(tip) { ObjectID(try makeCommit($0)) }
            } else {
                newTip = ObjectID(try makeCommit(nil))
            }
            do {
                try moveReference(notesRef, to: newTip, expecting: tip, message: message, signature: author)
                return
            } catch let error as GitError where error.isLostRace && attempt < Self.noteWriteAttempts {
                attempt += 1
                // Let the other writer finish before reading the tip again.
                usleep(UInt32.random(in: 500...2_000) * UInt32(attempt))
            }
        }
    }
}
