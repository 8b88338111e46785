import Foundation
import Git

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a command changed in a checkout, found by walking the folder against the tree it was
/// checked out from: new, modified (content, executable bit, file ↔ symlink) and deleted files.
/// `.git` folders a tool made are ignored, as are empty folders (git keeps none), sockets and
/// the like; submodule entries of the tree are left as they are.
struct WorkFolderChanges {
    /// Path → change, ready for `Repository.createCommit(changes:…)`.
    var changes: [String: FileChange] = [:]
    /// Every changed path, deleted ones included, sorted — also the paths under a folder that a
    /// file replaced, which the commit drops as the file's write covers them.
    var changedPaths: [String] = []
    /// Every file present after the command, for the expected-artifact check.
    var presentPaths: Set<String> = []
    var added = 0
    var modified = 0
    var deleted = 0

    /// Compares `folder` with `tree` (the entries of the checked-out commit).
    /// Throws `AgentError.scratchFolder` when a file cannot be read.
    init(folder: URL, tree: [TreeEntry]) throws {
        var expected: [String: TreeEntry] = [:]
        var submodules: Set<String> = []
        for entry in tree {
            if entry.mode == .submodule { submodules.insert(entry.path) } else { expected[entry.path] = entry }
        }
        var changed: [String] = []
        var changes: [String: FileChange] = [:]
        var present: Set<String> = []
        var (added, modified, deleted) = (0, 0, 0)
        try Self.walk(folder.path, prefix: "", skipping: submodules) { path, mode, data in
            present.insert(path)
            if let old = expected.removeValue(forKey: path) {
                guard old.mode != mode || old.id != Repository.hashBlob(data) else { return }
                modified += 1
            } else {
                added += 1
            }
            changes[path] = .write(data, mode: mode)
            changed.append(path)
        }
        for path in expected.keys {
            deleted += 1
            changed.append(path)
            // A file written at the path or at a folder above it replaces what was there.
            if !Self.isCovered(path, by: changes) { changes[path] = .delete }
        }
        self.changes = changes
        self.changedPaths = changed.sorted()
        self.presentPaths = present
        self.added = added
        self.modified = modified
        self.deleted = deleted
    }

    var isEmpty: Bool { changedPaths.isEmpty }

    /// "2 added, 1 modified, 1 deleted".
    var counts: String {
        [(added, "added"), (modified, "modified"), (deleted, "deleted")].filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }

    /// Whether a deleted `path` is replaced by a written file: at the path's folder (file replaces
    /// folder) or below the path (folder replaces file).
    private static func isCovered(_ path: String, by changes: [String: FileChange]) -> Bool {
        var folder = Substring(path)
        while let slash = folder.lastIndex(of: "/") {
            folder = folder[..<slash]
            if changes[String(folder)] != nil { return true }
        }
        // A folder now stands where the file was: the writes below it replace it.
        return changes.keys.contains { $0.hasPrefix(path + "/") }
    }

    private static func walk(
        _ absolute: String,
        prefix: String,
        skipping submodules: Set<String>,
        _ visit: (String, FileMode, Data) throws -> Void
    ) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: absolute)
        } catch {
            throw AgentError.scratchFolder(path: absolute, message: "cannot list the folder: \(error.localizedDescription)")
        }
        for name in names.sorted() where name != ".git" {
            let path = prefix.isEmpty ? name : prefix + "/" + name
            let full = absolute + "/" + name
            if submodules.contains(path) { continue }
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(full, prefix: path, skipping: submodules, visit)
            case S_IFREG:
                let data: Data
                do {
                    data = try Data(contentsOf: URL(fileURLWithPath: full))
                } catch {
                    throw AgentError.scratchFolder(path: full, message: "cannot read the file the agent left: \(error.localizedDescription)")
                }
                // git records only the owner's executable bit.
                try visit(path, info.st_mode & S_IXUSR != 0 ? .executable : .regular, data)
            case S_IFLNK:
                var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlink(full, &buffer, buffer.count)
                guard length >= 0 else {
                    throw AgentError.scratchFolder(path: full, message: "cannot read the symlink: \(String(cString: strerror(errno)))")
                }
                try visit(path, .symlink, Data(buffer[0..<length]))
            default:
                continue
            }
        }
    }
}
