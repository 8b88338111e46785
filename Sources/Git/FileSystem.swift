import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations checkout needs, with errors worded like GitError's.
enum FileSystem {
    /// Makes `path` a folder: keeps an existing folder, replaces a file or symlink there.
    static func makeDirectory(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { return }
            try remove(path)
        }
        if mkdir(path, 0o777) != 0 && errno != EEXIST {
            // A missing parent (the first call, for the target folder itself).
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw failure("mkdir", path, message: error.localizedDescription)
            }
        }
    }

    /// Writes a new file (never through an existing symlink) with git's modes under the umask.
    static func writeFile(_ path: String, contents: Data, executable: Bool) throws {
        try removeIfPresent(path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, executable ? 0o777 : 0o666)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        try contents.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("write", path)
                }
                offset += written
            }
        }
    }

    /// Writes a new file from chunks: `next` fills the buffer and returns how many bytes it put
    /// there, 0 at the end.
    static func writeFile(_ path: String, executable: Bool, chunks next: (UnsafeMutableBufferPointer<UInt8>) throws -> Int) throws {
        try removeIfPresent(path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, executable ? 0o777 : 0o666)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try buffer.withUnsafeMutableBufferPointer { try next($0) }
            if count == 0 { return }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress.map { $0 + offset }, count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("write", path)
                }
                offset += written
            }
        }
    }

    /// Makes a symlink to `target` (the blob's bytes).
    static func makeSymlink(_ path: String, target: Data) throws {
        try removeIfPresent(path)
        let code = (target + [0]).withUnsafeBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return -1 }
            return symlink(base.assumingMemoryBound(to: CChar.self), path)
        }
        guard code == 0 else { throw failure("symlink", path) }
    }

    private static func removeIfPresent(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 { try remove(path) }
    }

    private static func remove(_ path: String) throws {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw failure("remove", path, message: error.localizedDescription)
        }
    }

    private static func failure(_ call: String, _ path: String, message: String? = nil) -> GitError {
        GitError(code: -1, message: "\(path): \(message ?? String(cString: strerror(errno)))", function: call)
    }
}
