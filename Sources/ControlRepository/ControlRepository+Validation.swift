import Foundation
import Git
import Specs

/// The outcome of `devsys validate`: what was checked and every problem found.
public struct ValidationReport: Sendable {
    /// Spec folders checked, as `specs/<id>`.
    public var checkedFolders: [String]
    /// The other files checked: `devsys.yaml`, `monitoring/checks.yaml`.
    public var checkedFiles: [String] = []
    public var diagnostics: [Diagnostic]

    public var isValid: Bool { !diagnostics.contains { $0.severity == .error } }
}

/// What one validation reports on: devsys.yaml's own problems, the monitoring checks', and which
/// spec folders. devsys.yaml is read whatever the scope: specs and checks are checked against it.
struct ValidationScope {
    var config = false
    var checks = false
    /// Spec folder names; nil: every folder.
    var folders: Set<String>? = []

    static let everything = ValidationScope(config: true, checks: true, folders: nil)

    static func specs(_ names: Set<String>?) -> ValidationScope { ValidationScope(folders: names) }

    mutating func add(_ other: ValidationScope) {
        config = config || other.config
        checks = checks || other.checks
        if let mine = folders, let theirs = other.folders { folders = mine.union(theirs) } else { folders = nil }
    }
}

extension ControlRepository {
    /// Validates every spec, devsys.yaml and the monitoring checks in `commit`'s tree.
    public func validate(commit: ObjectID) throws -> ValidationReport {
        try Self.validate(GitTreeSpecSource(repository: repository, tree: commit), scope: .everything)
    }

    /// Validates what changed between two commits: the spec folders touched in `old..new`, as they
    /// are in `new` (deleted folders need nothing), and every spec when devsys.yaml changed.
    /// A nil `old` (a new branch) validates the whole tree.
    public func validate(from old: ObjectID?, to new: ObjectID) throws -> ValidationReport {
        guard let old else { return try validate(commit: new) }
        let changes = try repository.diff(from: old, to: new)
        return try validate(changes: changes, in: GitTreeSpecSource(repository: repository, tree: new))
    }

    /// Validates the specs staged in the index against HEAD, for the pre-commit hook.
    public func validateStaged() throws -> ValidationReport {
        let staged = try repository.stagedTree()
        let headTree = try repository.headCommit().map { try repository.treeID(of: $0) }
        let changes = try repository.diff(fromTree: headTree, toTree: staged)
        return try validate(changes: changes, in: GitTreeSpecSource(repository: repository, tree: staged))
    }

    private func validate(changes: [TreeChange], in source: GitTreeSpecSource) throws -> ValidationReport {
        let configChanged = changes.contains { $0.path == Self.configPath || $0.path == Self.checksPath }
        if configChanged {
            return try Self.validate(source, scope: .everything)
        }
        let touched = Set(changes.compactMap { specFolderName(of: $0.path) })
        return try Self.validate(source, scope: .specs(touched))
    }

    /// Validates the work tree at `root` as it is on disk — every spec folder, devsys.yaml and the
    /// monitoring checks — so what `git commit` would record is checked before it is committed.
    public static func validateWorkTree(root: URL) throws -> ValidationReport {
        try validate(DirectorySpecSource(root: root), scope: .everything)
    }

    /// Validates files on disk of the work tree at `root`: each path a spec folder or a file in
    /// one, `specs` (every spec), `devsys.yaml` (it, the checks and every spec: they depend on it),
    /// `monitoring/checks.yaml` (or `monitoring`), or the work tree's top (everything). Relative
    /// paths are taken from the working directory.
    ///
    /// A path that does not exist is reported as an error at that path; the others are still checked.
    /// - Throws: `ControlRepositoryError.notInTree` for a path outside the work tree, and
    ///   `.notValidatable` for one inside it that devsys does not check (`app/index.php`).
    public static func validate(paths: [String], root: URL) throws -> ValidationReport {
        let source = DirectorySpecSource(root: root)
        let rootPath = root.standardizedFileURL.resolvingSymlinksInPath().path
        var scope = ValidationScope()
        var missing: [Diagnostic] = []
        for path in paths {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            let relative: String
            if absolute == rootPath {
                relative = ""
            } else if absolute.hasPrefix(rootPath + "/") {
                relative = String(absolute.dropFirst(rootPath.count + 1))
            } else {
                throw ControlRepositoryError.notInTree(path)
            }
            guard let wanted = pathScope(relative) else { throw ControlRepositoryError.notValidatable(path) }
            guard FileManager.default.fileExists(atPath: absolute) else {
                missing.append(Diagnostic(path: relative, message: try missingMessage(relative, in: source)))
                continue
            }
            if let folders = wanted.folders, let name = folders.first, !source.isSpecFolder(name) {
                // `specs/notes.txt`: a file directly under specs/, not a folder of one.
                throw ControlRepositoryError.notValidatable(path)
            }
            scope.add(wanted)
        }
        var report = try validate(source, scope: scope)
        report.diagnostics = missing + report.diagnostics
        return report
    }

    /// What validating `relative` (a path from the top of the work tree) covers; nil when devsys
    /// checks nothing there.
    private static func pathScope(_ relative: String) -> ValidationScope? {
        switch relative {
        case "": return .everything
        case configPath: return .everything
        case "specs": return .specs(nil)
        case checksPath, "monitoring": return ValidationScope(checks: true)
        default: return specFolderName(of: relative).map { .specs([$0]) }
        }
    }

    /// Says that `relative` does not exist, what to give instead, and the spec folder probably meant.
    private static func missingMessage(_ relative: String, in source: DirectorySpecSource) throws -> String {
        if relative == configPath || relative == checksPath {
            return "does not exist in the work tree; create it, or run 'devsys validate' without paths to check the whole work tree"
        }
        var message =
            "does not exist in the work tree; give an existing spec folder (specs/<id>) or a file in one, devsys.yaml or "
            + "monitoring/checks.yaml"
        if let name = specFolderName(of: relative), let near = DidYouMean.suggestion(for: name, among: try source.specFolderNames()) {
            message += " (did you mean 'specs/\(near)'?)"
        }
        return message
    }

    /// Validates what `scope` names in `source`.
    static func validate(_ source: some SpecSource, scope: ValidationScope) throws -> ValidationReport {
        let validator = SpecTreeValidator(config: try source.configFile())
        var diagnostics = scope.config ? validator.configDiagnostics : []
        var checkedFiles = scope.config ? [configPath] : []
        if scope.checks, let checks = try source.file(at: checksPath) {
            diagnostics += MonitoringChecks.parse(checks, path: checksPath, config: validator.config).diagnostics
            checkedFiles.append(checksPath)
        }
        let allNames = try source.specFolderNames()
        let checked = scope.folders.map { wanted in allNames.filter(wanted.contains) } ?? allNames
        let specFolders = try checked.map { try source.specFolder(named: $0) }
        diagnostics += validator.validate(folders: specFolders, allTaskIDs: Set(allNames))
        return ValidationReport(checkedFolders: specFolders.map(\.path), checkedFiles: checkedFiles, diagnostics: diagnostics)
    }
}

/// `specs/<name>` or `specs/<name>/…` → `name`; nil for paths outside a spec folder.
func specFolderName(of path: String) -> String? {
    let components = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
    guard components.count >= 2, components[0] == "specs", !components[1].isEmpty else { return nil }
    return String(components[1])
}
