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
    /// The largest change and the largest file an attempt may leave (`agents.coding.max_change_mb`
    /// and `max_file_mb`).
    struct Limits {
        var changeBytes: Int
        var fileBytes: Int
    }

    /// Why the folder cannot become a commit: one line for people, naming the path.
    struct Refusal: Error {
        var reason: String
    }

    /// Path → change, ready for `Repository.createCommit(changes:…)`. New and changed files are
    /// `.file` changes, streamed from the folder when the commit is written.
    var changes: [String: FileChange] = [:]
    /// Every changed path, deleted ones included, sorted — also the paths under a folder that a
    /// file replaced, which the commit drops as the file's write covers them.
    var changedPaths: [String] = []
    /// Every file present after the command, for the expected-artifact check.
    var presentPaths: Set<String> = []
    var added = 0
    var modified = 0
    var deleted = 0
    /// Bytes of the new and changed files.
    var changedBytes = 0

    /// Compares `folder` with `tree` (the entries of the checked-out commit), hashing files from
    /// disk in chunks so that memory stays bounded whatever the agent wrote. Throws `Refusal` for
    /// a name that is not UTF-8 or a file or change over `limits`, and `AgentError.scratchFolder`
    /// when a file cannot be read.
    init(folder: URL, tree: [TreeEntry], limits: Limits) throws {
        var expected: [String: TreeEntry] = [:]
        var submodules: Set<String> = []
        for entry in tree {
            if entry.mode == .submodule { submodules.insert(entry.path) } else { expected[entry.path] = entry }
        }
        var changed: [String] = []
        var changes: [String: FileChange] = [:]
        var present: Set<String> = []
        var (added, modified, deleted, bytes) = (0, 0, 0, 0)
        try Self.walk(folder.path, prefix: "", skipping: submodules) { path, file in
            present.insert(path)
            let old = expected.removeValue(forKey: path)
            if let old, old.mode == file.mode, old.id == (try file.blobID()) { return }
            if old == nil { added += 1 } else { modified += 1 }
            if file.mode != .symlink {
                if file.size > limits.fileBytes {
                    throw Refusal(
                        reason:
                            "\(path) is \(Self.megabytes(file.size)), over the \(Self.megabytes(limits.fileBytes)) a file may have (agents.coding.max_file_mb in devsys.yaml)"
                    )
                }
                bytes += file.size
                if bytes > limits.changeBytes {
                    throw Refusal(
                        reason:
                            "the change is over the \(Self.megabytes(limits.changeBytes)) an attempt may add (agents.coding.max_change_mb in devsys.yaml); it passed the limit at \(path)"
                    )
                }
            }
            changes[path] = try file.change()
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
        self.changedBytes = bytes
    }

    var isEmpty: Bool { changedPaths.isEmpty }

    /// "2 added, 1 modified, 1 deleted".
    var counts: String {
        [(added, "added"), (modified, "modified"), (deleted, "deleted")].filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }

    static func megabytes(_ bytes: Int) -> String {
        let megabytes = Double(bytes) / 1_048_576
        return megabytes >= 10 || megabytes == megabytes.rounded() ? "\(Int(megabytes.rounded(.up))) MB" : String(format: "%.1f MB", megabytes)
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

    /// One file the walk found: where it is, its mode and size, and how to read it.
    struct FoundFile {
        var fullPath: String
        var mode: FileMode
        var size: Int

        /// The blob id it would get, computed from disk in chunks.
        func blobID() throws -> ObjectID {
            if mode == .symlink { return Repository.hashBlob(try linkTarget()) }
            do {
                return try Repository.hashFile(atPath: fullPath)
            } catch {
                throw AgentError.scratchFolder(path: fullPath, message: "cannot read the file the agent left: \(error)")
            }
        }

        func change() throws -> FileChange {
            mode == .symlink ? .write(try linkTarget(), mode: .symlink) : .file(path: fullPath, mode: mode)
        }

        func linkTarget() throws -> Data {
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(fullPath, &buffer, buffer.count)
            guard length >= 0 else {
                throw AgentError.scratchFolder(path: fullPath, message: "cannot read the symlink: \(String(cString: strerror(errno)))")
            }
            return Data(buffer[0..<length])
        }
    }

    /// Visits every regular file and symlink below `absolute`, names read as bytes (readdir), in
    /// byte order. A name that is not UTF-8 is refused by name: git would store the bytes, but
    /// every later step of devsys reads names as text.
    private static func walk(
        _ absolute: String,
        prefix: String,
        skipping submodules: Set<String>,
        _ visit: (String, FoundFile) throws -> Void
    ) throws {
        guard let directory = opendir(absolute) else {
            throw AgentError.scratchFolder(path: absolute, message: "cannot list the folder: \(String(cString: strerror(errno)))")
        }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name != Array(".".utf8) && name != Array("..".utf8) && name != Array(".git".utf8) { names.append(name) }
        }
        closedir(directory)
        for bytes in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let name = String(validating: bytes, as: UTF8.self) else {
                let shown = bytes.map { (0x20..<0x7f).contains($0) ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
                throw Refusal(
                    reason:
                        "the agent left a file whose name is not UTF-8: \(prefix.isEmpty ? "" : prefix + "/")\(shown); devsys keeps names byte for byte and cannot carry this one — use a UTF-8 name"
                )
            }
            let path = prefix.isEmpty ? name : prefix + "/" + name
            let full = absolute + "/" + name
            if submodules.contains(path) { continue }
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(full, prefix: path, skipping: submodules, visit)
            case S_IFREG:
                // git records only the owner's executable bit.
                try visit(path, FoundFile(fullPath: full, mode: info.st_mode & S_IXUSR != 0 ? .executable : .regular, size: Int(info.st_size)))
            case S_IFLNK:
                try visit(path, FoundFile(fullPath: full, mode: .symlink, size: Int(info.st_size)))
            default:
                continue
            }
        }
    }
}
