import CGit2
import Foundation

extension Repository {
    /// Writes the files of `commit` into `directory` (created if missing), from the object database
    /// alone, so it works on bare repositories. Regular files honour the umask like git; executable
    /// bits and symlinks are kept; submodules become empty folders. Content is written raw (no
    /// `.gitattributes` filters). Existing files at the same paths are replaced; others are left.
    /// Throws `GitError` — `.notFound` for a missing commit, `.invalidPath` for a tree entry that
    /// would escape the folder, `.other` with the system's message when a file cannot be written.
    public func checkout(_ commit: ObjectID, into directory: URL) throws {
        let root = try treeID(of: commit)
        try FileSystem.makeDirectory(directory.path)
        try checkoutTree(root, into: directory.path, prefix: "")
    }

    private func checkoutTree(_ id: ObjectID, into folder: String, prefix: String) throws {
        try withTree(id) { tree in
            for index in 0..<git_tree_entrycount(tree) {
                guard let entry = git_tree_entry_byindex(tree, index) else { continue }
                let name = try TreeEntryName.decode(git_tree_entry_name(entry), under: prefix, in: "Repository.checkout")
                // Trees from a push are not trusted: one component, never '.', '..' or '.git'.
                if name.contains("/") { throw GitError.invalidPath(name, "a tree entry name contains '/'", in: "Repository.checkout") }
                _ = try RepositoryPath.validate(name, in: "Repository.checkout")
                let path = folder + "/" + name
                let entryID = ObjectID(git_tree_entry_id(entry))
                switch FileMode(git_tree_entry_filemode(entry)) {
                case .directory?:
                    try FileSystem.makeDirectory(path)
                    try checkoutTree(entryID, into: path, prefix: prefix + name + "/")
                case .submodule?:
                    try FileSystem.makeDirectory(path)
                case .regular?:
                    try writeBlob(entryID, to: path, executable: false)
                case .executable?:
                    try writeBlob(entryID, to: path, executable: true)
                case .symlink?:
                    try FileSystem.makeSymlink(path, target: blob(entryID))
                case nil:
                    continue
                }
            }
        }
    }

    /// Blobs above this size are streamed from the object database to the file when the backend
    /// can (loose objects), so a checkout's memory stays bounded whatever a commit holds.
    static let streamedBlobSize = 8 << 20

    private func writeBlob(_ id: ObjectID, to path: String, executable: Bool) throws {
        var oid = id.oid
        var size = 0
        var type = GIT_OBJECT_INVALID
        guard git_odb_read_header(&size, &type, odb, &oid) == 0, size > Self.streamedBlobSize else {
            git_error_clear()
            return try FileSystem.writeFile(path, contents: blob(id), executable: executable)
        }
        var stream: UnsafeMutablePointer<git_odb_stream>?
        var streamedSize = 0
        var streamedType = GIT_OBJECT_INVALID
        guard git_odb_open_rstream(&stream, &streamedSize, &streamedType, odb, &oid) == 0, let stream else {
            // Packed objects have no streaming reader in libgit2: read whole.
            git_error_clear()
            return try FileSystem.writeFile(path, contents: blob(id), executable: executable)
        }
        defer { git_odb_stream_free(stream) }
        try FileSystem.writeFile(path, executable: executable) { buffer in
            let count = buffer.withMemoryRebound(to: CChar.self) { git_odb_stream_read(stream, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw GitError.last(count, "git_odb_stream_read") }
            return Int(count)
        }
    }
}
