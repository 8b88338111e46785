import CGit2
import Foundation

extension Repository {
    /// The id git would give `data` stored as a blob (`git hash-object`), computed without writing
    /// anything — to tell which files of a work folder differ from a tree. Hashing a buffer in
    /// memory has no error path in libgit2, so this does not throw.
    public static func hashBlob(_ data: Data) -> ObjectID {
        LibGit2.initialize()
        var oid = git_oid()
        var empty: UInt8 = 0
        let code = data.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress, !bytes.isEmpty {
                return git_odb_hash(&oid, base, bytes.count, GIT_OBJECT_BLOB)
            }
            return git_odb_hash(&oid, &empty, 0, GIT_OBJECT_BLOB)
        }
        precondition(code == 0, "git_odb_hash failed on an in-memory buffer (code \(code))")
        return ObjectID(oid)
    }

    /// The blob id of the file at `path` (`git hash-object <path>`), read in chunks: any size,
    /// bounded memory. Throws `GitError` when it cannot be read.
    public static func hashFile(atPath path: String) throws -> ObjectID {
        LibGit2.initialize()
        var oid = git_oid()
        try check(git_odb_hashfile(&oid, path, GIT_OBJECT_BLOB), "git_odb_hashfile")
        return ObjectID(oid)
    }
}
