import ControlRepository
import Foundation
import Git

/// An environment as git holds it (DESIGN §2): the desired commit on `refs/heads/env/<env>`, one
/// annotated tag `deploy/<env>/<NNNN>` per successful deploy, and the revisions that must not be
/// deployed again as notes in `refs/notes/devsys/bad` (`Bad: <env> at <time> by <who>: <why>`).
public struct EnvironmentRefs {
    public static let badNotesRef = ControlRefs.badNotes
    public let repository: Repository
    public let environment: String

    public init(repository: Repository, environment: String) {
        self.repository = repository
        self.environment = environment
    }

    /// `refs/heads/env/<env>`.
    public var ref: String { ControlRefs.environment(environment) }
    /// `deploy/<env>/`, the short-name prefix of its deploy tags.
    public var tagPrefix: String { ControlRefs.deployTagPrefix(environment) }

    /// The commit the environment should serve; nil before anything was promoted to it.
    public func desired() throws -> ObjectID? {
        try repository.reference(named: ref)
    }

    /// Moves the env ref to `commit` with compare-and-swap on `expecting` (nil: must not exist).
    /// Throws `GitError` (`isLostRace`) when someone moved it meanwhile.
    public func move(to commit: ObjectID, expecting: ObjectID?, message: String) throws {
        try repository.updateReference(ref, to: commit, expecting: expecting, message: message)
    }

    // MARK: Deploy tags

    /// The environment's deploy tags, oldest first.
    public func tags() throws -> [DeployTag] {
        try repository.annotatedTags(withPrefix: tagPrefix).compactMap { DeployTag($0, prefix: tagPrefix) }.sorted { $0.sequence < $1.sequence }
    }

    /// One more than the highest deploy tag's sequence (1 for the first deploy).
    public func nextSequence() throws -> Int {
        (try tags().last?.sequence ?? 0) + 1
    }

    /// `deploy/<env>/<NNNN>`, at least four digits.
    public func tagName(sequence: Int) -> String {
        let digits = String(sequence)
        return tagPrefix + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Bad revisions

    /// Why `commit` is marked bad in this environment; nil when it is not.
    public func badReason(_ commit: ObjectID) throws -> String? {
        let lines = (try repository.note(on: commit, notesRef: Self.badNotesRef) ?? "").split(separator: "\n")
        return lines.last { $0.hasPrefix("Bad: \(environment) ") }.map { String($0.dropFirst("Bad: \(environment) ".count)) }
    }

    /// Marks `commit` bad here: auto-deploy and the reconciler never deploy it to this environment
    /// again; `devsys deploy --force` does, and clears the mark.
    public func markBad(_ commit: ObjectID, by actor: String, reason: String, at date: Date = .now) throws {
        let existing = try repository.note(on: commit, notesRef: Self.badNotesRef).map { $0.hasSuffix("\n") ? $0 : $0 + "\n" } ?? ""
        let line =
            "Bad: \(environment) at \(ISO8601DateFormatter().string(from: date)) by \(actor): \(reason.replacingOccurrences(of: "\n", with: " "))"
        try repository.setNote(
            existing + line + "\n",
            on: commit,
            notesRef: Self.badNotesRef,
            author: Signature(actor: actor)
        )
    }

    /// Removes this environment's bad marks from `commit`.
    public func clearBad(_ commit: ObjectID, by actor: String) throws {
        guard let note = try repository.note(on: commit, notesRef: Self.badNotesRef) else { return }
        let kept = note.split(separator: "\n").filter { !$0.hasPrefix("Bad: \(environment) ") }
        let author = Signature(actor: actor)
        if kept.isEmpty {
            try repository.removeNote(on: commit, notesRef: Self.badNotesRef, author: author)
        } else {
            try repository.setNote(kept.joined(separator: "\n") + "\n", on: commit, notesRef: Self.badNotesRef, author: author)
        }
    }
}

/// A deploy tag `deploy/<env>/<NNNN>` and the fields of its message.
public struct DeployTag: Sendable, Hashable, Codable {
    /// The short tag name, `deploy/prod/0003`.
    public var name: String
    public var sequence: Int
    public var commit: String
    public var date: Date?
    /// `Key: value` lines of the message (`Actor`, `Tasks`, `Hosts`, `Revision`…).
    public var fields: [String: String]
    public var message: String

    init?(_ tag: AnnotatedTag, prefix: String) {
        let number = tag.name.dropFirst(prefix.count)
        guard number.count >= 4, number.allSatisfy(\.isNumber), let sequence = Int(number) else { return nil }
        name = tag.name
        self.sequence = sequence
        commit = tag.target.hex
        date = tag.tagger?.time
        message = tag.message
        var fields: [String: String] = [:]
        for line in tag.message.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix(" ") else { continue }
            let key = String(line[..<colon])
            guard !key.contains(" ") else { continue }
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.fields = fields
    }
}
