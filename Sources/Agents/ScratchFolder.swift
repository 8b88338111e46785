import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File operations on the state folder: fresh work folders and all-or-nothing writes.
enum ScratchFolder {
    /// Makes `folder` an empty folder, removing whatever was there (a leftover of a crashed run).
    /// Throws `AgentError.scratchFolder`.
    static func makeFresh(_ folder: URL) throws {
        let manager = FileManager.default
        do {
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: folder.path, isDirectory: &isDirectory)
                || (try? manager.destinationOfSymbolicLink(atPath: folder.path)) != nil
            {
                try manager.removeItem(at: folder)
            }
            try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw AgentError.scratchFolder(path: folder.path, message: error.localizedDescription)
        }
    }

    /// Removes the folders in `folder` named `<prefix>-…` for any of `prefixes` (and the plain
    /// `<prefix>` of older versions): earlier tries of an attempt. Best effort.
    static func removeEarlierTries(in folder: URL, prefixes: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where prefixes.contains(where: { name == $0 || name.hasPrefix($0 + "-") }) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// Writes `data` to `url` so that readers see the old file or the whole new one, never a part:
    /// a temporary file in the same folder, flushed to disk, then renamed over `url`. On any
    /// failure (a full disk) the temporary file is removed and nothing is left at `url`'s name
    /// that was not there before. Makes the folder when missing. Throws `AgentError.scratchFolder`.
    static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw AgentError.scratchFolder(path: folder.path, message: error.localizedDescription)
        }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UUID().uuidString.prefix(8)).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(url, "cannot create a temporary file beside it") }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(descriptor) }
            if !renamed { unlink(temporary) }
        }
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(url, "write")
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw failure(url, "fsync") }
        closed = true
        guard close(descriptor) == 0 else { throw failure(url, "close") }
        guard rename(temporary, url.path) == 0 else { throw failure(url, "rename") }
        renamed = true
    }

    private static func failure(_ url: URL, _ step: String) -> AgentError {
        AgentError.scratchFolder(path: url.path, message: "\(step): \(String(cString: strerror(errno)))")
    }

    private static func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(descriptor, bytes, count)
        #else
        Darwin.write(descriptor, bytes, count)
        #endif
    }
}
