/// One file's change between two commits, as `git diff` prints it: the `diff --git` header, the
/// `index` line and the hunks, or `Binary files … differ`.
public struct FilePatch: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable {
        case added, modified, deleted, renamed, copied
        /// A file turned into a symlink or back.
        case typeChanged = "type-changed"
    }

    /// The path after the change (before it, for a deletion).
    public var path: String
    /// The path before a rename or copy; nil otherwise.
    public var oldPath: String?
    public var status: Status
    /// Whether either side is binary (the text names it; there are no lines to count).
    public var isBinary: Bool
    /// Lines added and deleted (0 for a binary file).
    public var added: Int
    public var deleted: Int
    /// The patch in git's format, ending with a newline.
    public var text: String

    /// Makes a value by hand (for tests and fakes).
    public init(path: String, oldPath: String? = nil, status: Status, isBinary: Bool, added: Int, deleted: Int, text: String) {
        self.path = path
        self.oldPath = oldPath
        self.status = status
        self.isBinary = isBinary
        self.added = added
        self.deleted = deleted
        self.text = text
    }
}
