import CGit2
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes new objects as loose files through an object database that holds only libgit2's loose
/// backend for the repository's objects folder.
///
/// Writing through the repository's own database costs a rescan of the pack folder for every new
/// object (libgit2 refreshes its pack list whenever an object it is asked to freshen is missing):
/// six system calls per object, a third of a commit's cost. Loose files are the same either way,
/// and the repository reads them at once (the loose backend keeps no state).
final class LooseObjectWriter {
    private let odb: OpaquePointer

    init(objectsDirectory: String) throws {
        var odb: OpaquePointer?
        try check(git_odb_new(&odb), "git_odb_new")
        guard let odb else { throw GitError.missingResult("git_odb_new") }
        var backend: UnsafeMutablePointer<git_odb_backend>?
        // -1, 0, 0, 0: default compression, no fsync, default folder and file modes (as git_repository_odb does).
        var code = git_odb_backend_loose(&backend, objectsDirectory, -1, 0, 0, 0)
        if code == 0, let backend {
            code = git_odb_add_backend(odb, backend, 1)
            // On failure the database does not own the backend yet.
            if code < 0 { backend.pointee.free?(backend) }
        }
        guard code == 0, backend != nil else {
            let error = GitError.last(code < 0 ? code : GIT_ERROR.rawValue, "git_odb_backend_loose")
            git_odb_free(odb)
            throw error
        }
        self.odb = odb
    }

    deinit {
        git_odb_free(odb)
    }

    /// Writes one object (a no-op when it already exists) and returns its id.
    func write(_ bytes: UnsafeRawBufferPointer, type: git_object_t) throws -> ObjectID {
        var oid = git_oid()
        try check(git_odb_write(&oid, odb, bytes.baseAddress, bytes.count, type), "git_odb_write")
        return ObjectID(oid)
    }

    /// Streams the regular file at `path` into a blob, 1 MiB at a time, and returns its id.
    func writeBlob(fromFile path: String) throws -> ObjectID {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw GitError(code: -1, message: "\(path): \(String(cString: strerror(errno)))", function: "open") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw GitError(code: -1, message: "\(path): \(String(cString: strerror(errno)))", function: "fstat")
        }
        var stream: UnsafeMutablePointer<git_odb_stream>?
        try check(git_odb_open_wstream(&stream, odb, git_object_size_t(info.st_size), GIT_OBJECT_BLOB), "git_odb_open_wstream")
        guard let stream else { throw GitError.last(GIT_ERROR.rawValue, "git_odb_open_wstream") }
        defer { git_odb_stream_free(stream) }
        var buffer = [CChar](repeating: 0, count: 1 << 20)
        var remaining = Int(info.st_size)
        while remaining > 0 {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, min($0.count, remaining)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw GitError(
                    code: -1,
                    message: "\(path): " + (count == 0 ? "the file shrank while it was read" : String(cString: strerror(errno))),
                    function: "read"
                )
            }
            try buffer.withUnsafeBufferPointer { try check(git_odb_stream_write(stream, $0.baseAddress, count), "git_odb_stream_write") }
            remaining -= count
        }
        var oid = git_oid()
        try check(git_odb_stream_finalize_write(&oid, stream), "git_odb_stream_finalize_write")
        return ObjectID(oid)
    }

    func write(_ bytes: [UInt8], type: git_object_t) throws -> ObjectID {
        try bytes.withUnsafeBytes { try write($0, type: type) }
    }
}
