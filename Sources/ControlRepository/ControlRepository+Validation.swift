import Foundation
import Git
import Specs

/// The outcome of `devsys validate`: which spec folders were checked and every problem found.
public struct ValidationReport: Sendable {
    /// Spec folders checked, as `specs/<id>`.
    public var checkedFolders: [String]
    public var diagnostics: [Diagnostic]

    public var isValid: Bool { !diagnostics.contains { $0.severity == .error } }
}

extension ControlRepository {
    /// Validates every spec, devsys.yaml and the monitoring checks in `commit`'s tree.
    public func validate(commit: ObjectID) throws -> ValidationReport {
        try Self.validate(GitTreeSpecSource(repository: repository, tree: commit), folders: nil, configChanged: true)
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
            return try Self.validate(source, folders: nil, configChanged: true)
        }
        let touched = Set(changes.compactMap { specFolderName(of: $0.path) })
        return try Self.validate(source, folders: touched, configChanged: false)
    }

    /// Validates spec folders on disk (each a folder under `specs/` or a file in one) against the
    /// devsys.yaml and spec folders of the work tree at `root`.
    public static func validate(paths: [String], root: URL) throws -> ValidationReport {
        var names: Set<String> = []
        let rootPath = root.standardizedFileURL.resolvingSymlinksInPath().path
        for path in paths {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            guard absolute.hasPrefix(rootPath + "/") else { throw ControlRepositoryError.notInTree(path) }
            let relative = String(absolute.dropFirst(rootPath.count + 1))
            if relative == "specs" {
                return try validate(DirectorySpecSource(root: root), folders: nil, configChanged: true)
            }
            guard let name = specFolderName(of: relative) else { throw ControlRepositoryError.notInTree(path) }
            names.insert(name)
        }
        return try validate(DirectorySpecSource(root: root), folders: names, configChanged: false)
    }

    /// Validates `folders` (nil: all) of `source`; devsys.yaml is always parsed (specs are checked
    /// against it) but its own problems are reported only when `configChanged`.
    static func validate(_ source: some SpecSource, folders: Set<String>?, configChanged: Bool) throws -> ValidationReport {
        let validator = SpecTreeValidator(config: try source.configFile())
        var diagnostics = configChanged ? validator.configDiagnostics : []
        if configChanged, let checks = try source.file(at: checksPath) {
            diagnostics += MonitoringChecks.parse(checks, path: checksPath, config: validator.config).diagnostics
        }
        let allNames = try source.specFolderNames()
        let checked = folders.map { wanted in allNames.filter(wanted.contains) } ?? allNames
        let specFolders = try checked.map { try source.specFolder(named: $0) }
        diagnostics += validator.validate(folders: specFolders, allTaskIDs: Set(allNames))
        return ValidationReport(checkedFolders: specFolders.map(\.path), diagnostics: diagnostics)
    }
}

/// `specs/<name>` or `specs/<name>/…` → `name`; nil for paths outside a spec folder.
func specFolderName(of path: String) -> String? {
    let components = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
    guard components.count >= 2, components[0] == "specs", !components[1].isEmpty else { return nil }
    return String(components[1])
}
