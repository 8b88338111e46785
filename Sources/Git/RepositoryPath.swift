import Foundation

/// Checks paths handed to devsys before they reach libgit2, which would otherwise build odd
/// trees (`a//b`) or refuse them with a less helpful message.
enum RepositoryPath {
    /// Returns `path` when it is relative, has no empty, `.` or `..` component and does not
    /// enter `.git`; throws `GitError` of kind `.invalidPath` otherwise.
    static func validate(_ path: String, in function: String) throws(GitError) -> String {
        if path.isEmpty { throw .invalidPath(path, "the path is empty", in: function) }
        if path.hasPrefix("/") { throw .invalidPath(path, "it starts with '/'", in: function) }
        if path.utf8.contains(0) { throw .invalidPath(path, "it contains a NUL byte", in: function) }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            switch component {
            case "": throw .invalidPath(path, "it has an empty component ('//' or a trailing '/')", in: function)
            case ".", "..": throw .invalidPath(path, "'\(component)' components are not allowed", in: function)
            default:
                if component.lowercased() == ".git" { throw .invalidPath(path, "'.git' cannot be part of a tree", in: function) }
            }
        }
        return path
    }
}

/// The name of a tree entry, read as what it is: bytes. devsys carries UTF-8 names exactly; a
/// name that is not UTF-8 is refused by name (its other bytes as `\xNN`), never repaired into
/// U+FFFD and written, committed or deployed under a name it never had.
enum TreeEntryName {
    /// Throws `GitError.invalidPath` when the name is not UTF-8.
    static func decode(_ name: UnsafePointer<CChar>, under prefix: String, in function: String) throws -> String {
        if let text = String(validatingCString: name) { return text }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: strlen(name))
        throw GitError.invalidPath(
            prefix + escaped(bytes),
            "the name is not UTF-8; devsys keeps names byte for byte and cannot check out, commit or deploy this one: rename it (git mv) to a UTF-8 name",
            in: function
        )
    }

    /// `caf\xE9.txt`: printable ASCII as itself, every other byte of an invalid name as `\xNN`.
    static func escaped<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        bytes.map { (0x20..<0x7f).contains($0) && $0 != UInt8(ascii: "\\") ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
    }
}
