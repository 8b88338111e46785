import Foundation
import Git

/// Writes a POSIX tar stream (ustar, with pax headers for names over 100 bytes) of files from a
/// git tree, in chunks, so a deploy sends a tree over one exec channel without a checkout and
/// without holding the tree in memory: at most one file and one chunk at a time.
///
/// Files get mode 0644 or 0755, folders 0755, owner 0/0 with no names; symlinks keep their target
/// as git stores it. Parent folders are written before their first entry. Submodules are skipped.
public final class TarStream {
    public static let blockSize = 512

    private let output: (Data) throws -> Void
    private let chunkSize: Int
    private let modificationTime: Int
    private var buffer = Data()
    private var directories: Set<String> = []
    private var finished = false
    /// Bytes handed to `output` so far.
    public private(set) var bytesWritten = 0

    /// `modificationTime` is written on every entry (a commit's time makes changed files look new
    /// to caches keyed on mtime). `output` receives chunks of about `chunkSize` bytes.
    public init(modificationTime: Date = Date(timeIntervalSince1970: 0), chunkSize: Int = 64 * 1024, output: @escaping (Data) throws -> Void) {
        self.output = output
        self.chunkSize = max(Self.blockSize, chunkSize)
        self.modificationTime = max(0, Int(modificationTime.timeIntervalSince1970))
        buffer.reserveCapacity(self.chunkSize + Self.blockSize)
    }

    /// The tar stream of `entries` (a recursive tree listing), each path with `prefix` (a folder,
    /// e.g. `app`) removed; entries outside `prefix` are left out. File contents come from `blob`.
    /// Throws what `output` or `blob` throw, and `DeployError.unsupportedEntry`/`.invalidName`.
    public static func write(
        entries: [TreeEntry],
        stripping prefix: String = "",
        modificationTime: Date = Date(timeIntervalSince1970: 0),
        blob: (ObjectID) throws -> Data,
        to output: @escaping (Data) throws -> Void
    ) throws {
        let stream = TarStream(modificationTime: modificationTime, output: output)
        let folder = prefix.isEmpty ? "" : (prefix.hasSuffix("/") ? prefix : prefix + "/")
        for entry in entries {
            guard entry.path.hasPrefix(folder) else { continue }
            try stream.add(entry, as: String(entry.path.dropFirst(folder.count)), blob: blob)
        }
        try stream.finish()
    }

    /// Adds one tree entry under `path`, reading its content with `blob`.
    public func add(_ entry: TreeEntry, as path: String, blob: (ObjectID) throws -> Data) throws {
        switch entry.mode {
        case .regular: try addFile(path, content: blob(entry.id))
        case .executable: try addFile(path, content: blob(entry.id), executable: true)
        case .symlink: try addSymlink(path, target: String(decoding: blob(entry.id), as: UTF8.self))
        case .directory: try addDirectory(path)
        case .submodule: return
        }
    }

    public func addFile(_ path: String, content: Data, executable: Bool = false) throws {
        let path = try Self.checked(path)
        try addParents(of: path)
        try appendHeader(name: path, mode: executable ? 0o755 : 0o644, size: content.count, type: "0")
        try appendContent(content)
    }

    public func addSymlink(_ path: String, target: String) throws {
        let path = try Self.checked(path)
        guard !target.isEmpty, !target.utf8.contains(0) else { throw DeployError.unsupportedEntry(path: path, reason: "empty or NUL symlink target") }
        try addParents(of: path)
        try appendHeader(name: path, mode: 0o777, size: 0, type: "2", linkName: target)
    }

    public func addDirectory(_ path: String) throws {
        let path = try Self.checked(path)
        guard !directories.contains(path) else { return }
        try addParents(of: path)
        directories.insert(path)
        try appendHeader(name: path + "/", mode: 0o755, size: 0, type: "5")
    }

    /// The two zero blocks that end an archive; flushes everything.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        buffer.append(Data(count: 2 * Self.blockSize))
        try flush(all: true)
    }

    private func addParents(of path: String) throws {
        var parent = ""
        for component in path.split(separator: "/").dropLast() {
            parent = parent.isEmpty ? String(component) : parent + "/" + component
            if !directories.contains(parent) {
                directories.insert(parent)
                try appendHeader(name: parent + "/", mode: 0o755, size: 0, type: "5")
            }
        }
    }

    /// A relative path without empty, `.` or `..` parts: git never stores others, but a tar
    /// stream that could escape its folder must not be possible to build.
    static func checked(_ path: String) throws -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.utf8.contains(0), parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw DeployError.invalidName(what: "path in the app tree", value: path, reason: "must be relative, without empty, '.' or '..' parts")
        }
        return path
    }

    private func appendHeader(name: String, mode: Int, size: Int, type: Character, linkName: String = "") throws {
        // 11 octal digits: the ustar size limit (8 GiB - 1).
        guard size < 0o77777777777 else { throw DeployError.unsupportedEntry(path: name, reason: "larger than 8 GiB") }
        var pax: [(String, String)] = []
        if name.utf8.count > 100 { pax.append(("path", name)) }
        if linkName.utf8.count > 100 { pax.append(("linkpath", linkName)) }
        if !pax.isEmpty {
            let records = Data(pax.map { Self.paxRecord(key: $0.0, value: $0.1) }.joined().utf8)
            let shortName = "PaxHeaders/" + String(decoding: Data(name.utf8.suffix(80)), as: UTF8.self)
            buffer.append(Self.header(name: shortName, mode: 0o644, size: records.count, mtime: modificationTime, type: "x", linkName: ""))
            try appendContent(records)
        }
        buffer.append(Self.header(name: name, mode: mode, size: size, mtime: modificationTime, type: type, linkName: linkName))
        try flush(all: false)
    }

    /// Content, padded to a whole block; large contents go out in chunk-sized slices.
    private func appendContent(_ content: Data) throws {
        var offset = content.startIndex
        while offset < content.endIndex {
            let end = min(content.endIndex, offset + (chunkSize - buffer.count % chunkSize))
            buffer.append(content[offset..<end])
            offset = end
            try flush(all: false)
        }
        let remainder = content.count % Self.blockSize
        if remainder != 0 { buffer.append(Data(count: Self.blockSize - remainder)) }
        try flush(all: false)
    }

    private func flush(all: Bool) throws {
        while buffer.count >= chunkSize || (all && !buffer.isEmpty) {
            let chunk = buffer.prefix(chunkSize)
            try output(Data(chunk))
            bytesWritten += chunk.count
            buffer.removeFirst(chunk.count)
        }
    }

    /// `"<length> key=value\n"`, where the length counts itself.
    static func paxRecord(key: String, value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length = String(length).count + body.utf8.count }
        return "\(length)\(body)"
    }

    static func header(name: String, mode: Int, size: Int, mtime: Int, type: Character, linkName: String) -> Data {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(mode, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        put("        ", at: 148, width: 8)
        block[156] = type.asciiValue ?? UInt8(ascii: "0")
        put(linkName, at: 157, width: 100)
        put("ustar\0", at: 257, width: 6)
        put("00", at: 263, width: 2)
        let checksum = block.reduce(0) { $0 + Int($1) }
        let digits = String(checksum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits, at: 148, width: 6)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return Data(block)
    }
}
