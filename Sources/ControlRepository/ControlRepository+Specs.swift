import Foundation
import Git
import Specs

/// One spec folder as the controller sees it at a commit: the parsed spec when it is valid, every
/// problem when not, and the blob of its task.yaml (nil when the folder has none).
public struct SpecSnapshot: Sendable {
    public var id: String
    public var spec: TaskSpec?
    public var diagnostics: [Diagnostic]
    public var taskFile: ObjectID?

    public var isValid: Bool { spec != nil && !diagnostics.contains { $0.severity == .error } }
}

/// What changed between two trunk commits, as far as tasks are concerned.
public struct SpecChanges: Sendable {
    /// Spec folders with any file added, changed or deleted.
    public var folders: Set<String>
    /// devsys.yaml changed: every spec must be read again (apps and environments may have moved).
    public var configChanged: Bool
}

extension ControlRepository {
    /// The spec folders touched between `old` and `new` (all of them when `old` is nil).
    public func specChanges(from old: ObjectID?, to new: ObjectID) throws -> SpecChanges {
        guard let old else {
            return SpecChanges(folders: Set(try GitTreeSpecSource(repository: repository, tree: new).specFolderNames()), configChanged: true)
        }
        let changes = try repository.diff(from: old, to: new)
        return SpecChanges(
            folders: Set(changes.compactMap { specFolderName(of: $0.path) }),
            configChanged: changes.contains { $0.path == Self.configPath }
        )
    }

    /// Reads and validates the spec folders `names` (nil: all) as they are in `commit`, against that
    /// commit's devsys.yaml. A name whose folder is gone is returned with no `taskFile`.
    ///
    /// With `names` given, the rest of `specs/` is not listed: the other ids a spec needs (its
    /// `related_tasks`) are looked up one by one, so reading one changed spec among thousands
    /// costs about the same as among ten.
    public func specs(named names: Set<String>?, at commit: ObjectID) throws -> (config: ProjectConfig?, specs: [SpecSnapshot]) {
        let source = GitTreeSpecSource(repository: repository, tree: commit)
        let validator = SpecTreeValidator(config: try source.configFile())
        let wanted = try names.map { Array($0).sorted() } ?? source.specFolderNames()
        var knownIDs = Set(try wanted.filter { try names == nil || source.folderExists($0) })
        var snapshots: [SpecSnapshot] = []
        for name in wanted {
            guard knownIDs.contains(name) else {
                snapshots.append(SpecSnapshot(id: name, spec: nil, diagnostics: [], taskFile: nil))
                continue
            }
            let folder = try source.specFolder(named: name)
            let taskPath = "specs/\(name)/task.yaml"
            let taskFile = try repository.tree(of: commit, under: "specs/\(name)", recursive: false).first { $0.path == taskPath }?.id
            let spec = folder.files["task.yaml"].flatMap { TaskSpec.parse($0, path: taskPath).spec }
            for related in spec?.relatedTasks ?? [] where !knownIDs.contains(related) && TaskID.isValid(related) {
                if try source.folderExists(related) { knownIDs.insert(related) }
            }
            let diagnostics = validator.validate(folders: [folder], allTaskIDs: knownIDs)
            snapshots.append(SpecSnapshot(id: name, spec: spec, diagnostics: diagnostics, taskFile: taskFile))
        }
        return (validator.config, snapshots)
    }

    /// devsys.yaml as of `commit`, when it parses.
    public func config(at commit: ObjectID) throws -> ProjectConfig? {
        guard let data = try repository.file(at: Self.configPath, in: commit) else { return nil }
        return ProjectConfig.parse(data, path: Self.configPath).config
    }
}
