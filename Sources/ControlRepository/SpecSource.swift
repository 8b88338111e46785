import Foundation
import Git
import Specs

/// Where the validator reads a control repository's files from: a commit, the staged index, or
/// the folders on disk. Paths are relative to the repository's top (`specs/001-x/task.yaml`).
protocol SpecSource {
    /// A file's bytes, or nil when it does not exist.
    func file(at path: String) throws -> Data?
    /// The names of the folders directly under `specs/`.
    func specFolderNames() throws -> [String]
    /// Every file directly inside `specs/<name>/` with its size in bytes.
    func files(inSpecFolder name: String) throws -> [(name: String, size: Int)]
}

/// The files a spec folder is validated from (agent.sh: that it is there, for the `script` coding
/// agent). Other files (fixtures) are only checked for size.
let validatedSpecFileNames: Set<String> = ["task.yaml", "spec.md", "plan.md", "tasks.md", SpecTreeValidator.agentScriptName]

extension SpecSource {
    /// Reads what the validator needs of one spec folder; files over the size limit are not read.
    func specFolder(named name: String) throws -> SpecFolder {
        var folder = SpecFolder(path: "specs/\(name)", files: [:], oversizeFiles: [:])
        for file in try files(inSpecFolder: name) {
            if file.size > SpecTreeValidator.maxFileSize {
                folder.oversizeFiles[file.name] = file.size
            } else if validatedSpecFileNames.contains(file.name) {
                folder.files[file.name] = try self.file(at: "specs/\(name)/\(file.name)")
            }
        }
        return folder
    }

    /// devsys.yaml, when present and not oversize.
    func configFile() throws -> (path: String, data: Data)? {
        try file(at: ControlRepository.configPath).map { (ControlRepository.configPath, $0) }
    }
}

/// A tree in the object database: a commit's or the index's.
struct GitTreeSpecSource: SpecSource {
    let repository: Repository
    /// A commit or tree id.
    let tree: ObjectID

    func file(at path: String) throws -> Data? {
        try repository.file(at: path, in: tree)
    }

    /// Whether `specs/<name>/` exists (one path lookup, no listing).
    func folderExists(_ name: String) throws -> Bool {
        !(try repository.tree(of: tree, under: "specs/\(name)", recursive: false).isEmpty)
    }

    func specFolderNames() throws -> [String] {
        try repository.tree(of: tree, under: "specs", recursive: false)
            .filter { $0.mode == .directory }
            .map { String($0.path.dropFirst("specs/".count)) }
    }

    func files(inSpecFolder name: String) throws -> [(name: String, size: Int)] {
        let prefix = "specs/\(name)/"
        return try repository.tree(of: tree, under: "specs/\(name)", recursive: false)
            .filter { $0.mode != .directory && $0.mode != .submodule }
            .map { (String($0.path.dropFirst(prefix.count)), try repository.blobSize($0.id)) }
    }
}

/// Folders on disk, for checking specs before they are committed.
struct DirectorySpecSource: SpecSource {
    /// The repository's top folder (where devsys.yaml is).
    let root: URL

    func file(at path: String) throws -> Data? {
        let url = root.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try Data(contentsOf: url)
    }

    func specFolderNames() throws -> [String] {
        let specs = root.appendingPathComponent("specs")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: specs.path) else { return [] }
        return names.filter { isDirectory(specs.appendingPathComponent($0)) }.sorted()
    }

    func files(inSpecFolder name: String) throws -> [(name: String, size: Int)] {
        let folder = root.appendingPathComponent("specs/\(name)")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().compactMap { file in
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(file).path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { return nil }
            return (file, (attributes[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// Whether `specs/<name>` is a folder on disk.
    func isSpecFolder(_ name: String) -> Bool {
        isDirectory(root.appendingPathComponent("specs/\(name)"))
    }

    private func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }
}
