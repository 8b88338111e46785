import ControlRepository
import Foundation
import Git
import Store

/// Reviews of task branches, kept where git users can read them: a note on the reviewed head in
/// `refs/notes/devsys/reviews`, one line per verdict (`Approved-by: NAME at TIME` /
/// `Rejected-by: NAME at TIME: REASON`).
public struct Reviews: Sendable {
    public static let notesRef = ControlRefs.reviewNotes

    public let repositoryPath: String
    public let store: Store

    public init(repositoryPath: String, store: Store) {
        self.repositoryPath = repositoryPath
        self.store = store
    }

    /// The verdict lines on a commit, oldest first.
    public func verdicts(on head: ObjectID) throws -> [String] {
        let note = try Repository.open(at: repositoryPath).note(on: head, notesRef: Self.notesRef) ?? ""
        return note.split(separator: "\n").map(String.init)
    }

    /// Whether the head carries an approval.
    public func isApproved(_ head: ObjectID) throws -> Bool {
        try verdicts(on: head).contains { $0.hasPrefix("Approved-by:") }
    }

    /// Records an approval of the task's tested head.
    /// - Throws: `PipelineError` when the task is not in review.
    public func approve(_ task: TaskRecord, reviewer: String, at date: Date = .now) throws {
        let head = try reviewedHead(task)
        try append("Approved-by: \(reviewer) at \(Self.timestamp(date))", on: head, reviewer: reviewer)
        try store.appendEvent(taskID: task.id, kind: .reviewApproved, message: "approved by \(reviewer)", data: ["commit": head.hex])
    }

    /// Records a rejection; the task ends `rejected` with the reason.
    public func reject(_ task: TaskRecord, reviewer: String, reason: String, at date: Date = .now) throws {
        let head = try reviewedHead(task)
        let oneLine = reason.replacingOccurrences(of: "\n", with: " ")
        try append("Rejected-by: \(reviewer) at \(Self.timestamp(date)): \(oneLine)", on: head, reviewer: reviewer)
        _ = try store.transition(taskID: task.id, from: [.review], to: .rejected, reason: "rejected by \(reviewer): \(oneLine)")
    }

    private func reviewedHead(_ task: TaskRecord) throws -> ObjectID {
        guard task.state == .review else { throw PipelineError.wrongState(task.id, task.state, expected: "in review") }
        guard let head = task.branchHead.flatMap(ObjectID.init(hex:)) else { throw PipelineError.noBranch(task.id) }
        return head
    }

    private func append(_ line: String, on head: ObjectID, reviewer: String) throws {
        let repository = try Repository.open(at: repositoryPath)
        let existing = try repository.note(on: head, notesRef: Self.notesRef).map { $0.hasSuffix("\n") ? $0 : $0 + "\n" } ?? ""
        try repository.setNote(
            existing + line + "\n",
            on: head,
            notesRef: Self.notesRef,
            author: Signature(actor: reviewer)
        )
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
