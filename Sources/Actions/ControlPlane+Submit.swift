import ControlRepository
import Foundation
import Git
import Pipeline
import Specs
import Store

/// A new task from a client: its spec folder's files, validated as `devsys validate` would with
/// the rest of the trunk, then committed to the trunk as the actor with compare-and-swap — the same
/// commit a person would push, which the reconciler then picks up.
extension ControlPlane {
    /// A spec the trunk now holds.
    public struct SubmittedSpec: Sendable, Encodable {
        public var id: String
        /// The commit that added it.
        public var commit: String
        public var trunk: String
    }

    /// How many times a submission is made again on a trunk that moved meanwhile.
    static let submitAttempts = 5

    /// Commits `files` (name → content: `task.yaml`, and `agent.sh`, `spec.md`, `plan.md`,
    /// `tasks.md` as the project uses them) as `specs/<id>/` on the trunk, `<id>` being the id
    /// task.yaml declares. Needs `developer` or higher.
    /// - Throws: `SpecSubmissionError` (a bad file name, no task.yaml, invalid — with every
    ///   diagnostic —, the id taken, the trunk kept moving), `ActionRefusal.roleTooLow`.
    public func submit(files: [String: String], by actor: Principal) async throws -> SubmittedSpec {
        let outcome: @Sendable (SubmittedSpec) -> String = { "ok: \($0.commit.prefix(12))" }
        return try await act(actor, "task.submit", target: "specs", outcome: outcome) { [self] target in
            try actor.require(Self.taskRole, to: "submit a spec")
            for name in files.keys.sorted() where !Self.isSpecFileName(name) { throw SpecSubmissionError.badFileName(name) }
            guard let yaml = files["task.yaml"] else { throw SpecSubmissionError.noTaskFile }
            let parsed = TaskSpec.parse(Data(yaml.utf8), path: "task.yaml")
            guard let spec = parsed.spec else { throw SpecSubmissionError.invalid(parsed.diagnostics.filter { $0.severity == .error }) }
            target = "task/\(spec.id)"
            let repository = try repository()
            let control = ControlRepository(repository)
            let folder = "specs/\(spec.id)"
            let changes = Dictionary(
                uniqueKeysWithValues: files.map { name, text in
                    ("\(folder)/\(name)", FileChange.write(Data(text.utf8), mode: name.hasSuffix(".sh") ? .executable : .regular))
                }
            )
            for _ in 0..<Self.submitAttempts {
                let trunk = try control.trunkCommit()
                if try !repository.tree(of: trunk.commit, under: folder, recursive: false).isEmpty { throw SpecSubmissionError.exists(spec.id) }
                let commit = try repository.createCommit(
                    changes: changes,
                    parents: [trunk.commit],
                    message: "Add task \(spec.id): \(spec.title)\n",
                    author: Signature(actor: actor.name)
                )
                let report = try control.validate(from: trunk.commit, to: commit)
                guard report.isValid else { throw SpecSubmissionError.invalid(report.diagnostics.filter { $0.severity == .error }) }
                do {
                    try repository.updateReference(
                        ControlRefs.branch(trunk.branch),
                        to: commit,
                        expecting: trunk.commit,
                        message: "devsys: task \(spec.id) submitted by \(actor.name)"
                    )
                } catch let error as GitError where error.isLostRace {
                    continue
                }
                _ = NotifySocket.send(to: state.notifySocket)
                return SubmittedSpec(id: spec.id, commit: commit.hex, trunk: trunk.branch)
            }
            throw SpecSubmissionError.trunkKeepsMoving(spec.id)
        }
    }

    /// A file name a spec folder may hold: one name, no folder, not hidden.
    static func isSpecFileName(_ name: String) -> Bool {
        name.range(of: #"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$"#, options: .regularExpression) != nil
    }
}

/// Why a submitted spec was not committed.
public enum SpecSubmissionError: DomainError {
    case badFileName(String)
    case noTaskFile
    /// Every problem found, as `devsys validate` reports them.
    case invalid([Diagnostic])
    case exists(String)
    case trunkKeepsMoving(String)

    public var code: String {
        switch self {
        case .badFileName: "spec_file_name_invalid"
        case .noTaskFile: "spec_task_file_missing"
        case .invalid: "spec_invalid"
        case .exists: "task_exists"
        case .trunkKeepsMoving: "trunk_keeps_moving"
        }
    }

    public var category: ErrorCategory {
        switch self {
        case .badFileName, .noTaskFile, .invalid: .invalid
        case .exists, .trunkKeepsMoving: .conflict
        }
    }

    public var description: String {
        switch self {
        case .badFileName(let name):
            "'\(name)' cannot be a file of a spec folder: give plain names like task.yaml, agent.sh or spec.md"
        case .noTaskFile:
            "a spec needs its task.yaml"
        case .invalid(let diagnostics):
            "the spec is invalid:\n" + diagnostics.map(\.description).joined(separator: "\n")
        case .exists(let id):
            "specs/\(id) already exists on the trunk; give the task a new id"
        case .trunkKeepsMoving(let id):
            "the trunk kept moving while committing specs/\(id); try again"
        }
    }
}
