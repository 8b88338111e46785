import Foundation
import Git
import Specs

/// A git repository that devsys manages: devsys.yaml, `specs/<id>/`, `monitoring/`, the app, and
/// the refs of DESIGN §2. Bare or with a work tree.
public struct ControlRepository {
    /// The top-level configuration file.
    public static let configPath = "devsys.yaml"
    /// The monitoring agent's checks.
    public static let checksPath = "monitoring/checks.yaml"
    /// The trunk when devsys.yaml names none.
    public static let defaultTrunk = "main"

    public let repository: Repository

    public init(_ repository: Repository) {
        self.repository = repository
    }

    /// Opens the repository at `path`, or the one around the working directory when `path` is nil
    /// (`Scope.local` of `locate(_:scope:)`: no origin is followed).
    /// - Throws: `ControlRepositoryError.notARepository` or `.noRepositoryAround` naming the folder.
    public static func open(_ path: String?) throws -> ControlRepository {
        try locate(RepositoryLookup(path: path), scope: .local).control
    }

    /// The trunk branch named by devsys.yaml on `commit` (default `main`). An unreadable
    /// devsys.yaml falls back to the default; validation reports what is wrong with it.
    public func trunk(at commit: ObjectID) -> String {
        guard let data = try? repository.file(at: Self.configPath, in: commit) else { return Self.defaultTrunk }
        return ProjectConfig.parse(data, path: Self.configPath).config?.trunk ?? Self.defaultTrunk
    }

    /// The commit the trunk points at, found through `refs/heads/main` (or HEAD's branch) and the
    /// `trunk:` it names.
    /// - Throws: `ControlRepositoryError.noTrunk` when neither resolves.
    public func trunkCommit() throws -> (branch: String, commit: ObjectID) {
        let candidates = [ControlRefs.branch(Self.defaultTrunk), "HEAD"]
        for candidate in candidates {
            guard let commit = try? repository.resolve(candidate) else { continue }
            let branch = trunk(at: commit)
            if let trunkCommit = try repository.reference(named: ControlRefs.branch(branch)) {
                return (branch, trunkCommit)
            }
        }
        throw ControlRepositoryError.noTrunk(repository.gitDirectory.path)
    }
}

/// What can go wrong finding or reading a control repository.
public enum ControlRepositoryError: DomainError {
    /// A folder named by `source` (`--repo`, `DEVSYS_REPO`) is not a repository.
    case notARepository(String, underlying: String, source: String)
    /// No folder from the working directory up is a repository.
    case noRepositoryAround(String)
    /// No state where a command that reads it looked; each entry says what was looked at.
    case noState(lookedAt: [String])
    case noTrunk(String)
    case badRevisionRange(String)
    case unknownRevision(String, underlying: String)
    case notInTree(String)
    /// A path in the work tree that is none of what `devsys validate` checks.
    case notValidatable(String)
    case templateMissing(String)
    case destinationNotEmpty(String)
    /// devsys.yaml on the trunk, at this commit, is missing or invalid.
    case invalidConfig(commit: String)

    public var code: String {
        switch self {
        case .notARepository: "repository_not_found"
        case .noRepositoryAround: "repository_not_found"
        case .noState: "state_not_found"
        case .noTrunk: "trunk_not_found"
        case .badRevisionRange: "revision_range_invalid"
        case .unknownRevision: "revision_not_found"
        case .notInTree: "path_outside_work_tree"
        case .notValidatable: "path_not_validatable"
        case .templateMissing: "template_missing"
        case .destinationNotEmpty: "destination_not_empty"
        case .invalidConfig: "config_invalid"
        }
    }

    public var category: ErrorCategory {
        switch self {
        case .notARepository, .noRepositoryAround, .noState, .noTrunk, .unknownRevision: .notFound
        case .badRevisionRange, .notInTree, .notValidatable: .invalid
        case .destinationNotEmpty: .conflict
        case .templateMissing, .invalidConfig: .failed
        }
    }

    public var description: String {
        switch self {
        case .notARepository(let path, let underlying, let source):
            "\(path) (from \(source)) is not a git repository (\(underlying)); point \(source) at the control repository, "
                + "or run 'devsys init DIR' to create one"
        case .noRepositoryAround(let path):
            "\(path) is not a git repository, nor is any folder above it; run devsys inside the control repository or a clone "
                + "of it, point at it with --repo DIR or \(ControlRepository.repositoryVariable)=DIR, or run 'devsys init DIR' to create one"
        case .noState(let looked):
            "no devsys state found. Looked at: "
                + looked.joined(separator: "; ")
                + ". Point at the control repository (the bare repository you push to, or the work tree a controller runs in) with "
                + "--repo DIR or \(ControlRepository.repositoryVariable)=DIR, or at its state folder with --state DIR; "
                + "the state is made by the controller's first run there ('devsys run --until-idle' or 'devsys serve')"
        case .noTrunk(let path):
            "\(path): no trunk branch found (refs/heads/main, or the trunk named in devsys.yaml); commit devsys.yaml to main first"
        case .badRevisionRange(let text):
            "'\(text)' is not a revision range; use OLD..NEW (e.g. main~3..main) or a single revision"
        case .unknownRevision(let revision, let underlying):
            "unknown revision '\(revision)': \(underlying)"
        case .notInTree(let path):
            "\(path) is not inside the repository's work tree; pass spec folders or files in them, devsys.yaml or "
                + "monitoring/checks.yaml of this work tree"
        case .notValidatable(let path):
            "\(path) is not something devsys validates; pass a spec folder (specs/<id>) or a file in one, devsys.yaml or "
                + "monitoring/checks.yaml, or no path for the whole work tree"
        case .templateMissing(let path):
            "the repository template is missing at \(path); reinstall devsys"
        case .destinationNotEmpty(let path):
            "\(path) already exists and is not empty; choose a new folder"
        case .invalidConfig(let commit):
            "devsys.yaml on the trunk (\(commit)) is missing or invalid"
        }
    }
}
