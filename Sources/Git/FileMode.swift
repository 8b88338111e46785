import CGit2

/// The kind of a tree entry, as git records it in the mode bits.
public enum FileMode: Sendable, Hashable {
    /// 100644
    case regular
    /// 100755
    case executable
    /// 120000: the blob holds the link target.
    case symlink
    /// 040000: a subtree.
    case directory
    /// 160000: a gitlink (the entry names a commit of another repository).
    case submodule

    init?(_ mode: git_filemode_t) {
        switch mode {
        // 100664 (group-writable) comes from old git versions and reads as a regular file.
        case GIT_FILEMODE_BLOB, git_filemode_t(rawValue: 0o100664): self = .regular
        case GIT_FILEMODE_BLOB_EXECUTABLE: self = .executable
        case GIT_FILEMODE_LINK: self = .symlink
        case GIT_FILEMODE_TREE: self = .directory
        case GIT_FILEMODE_COMMIT: self = .submodule
        default: return nil
        }
    }

    var gitMode: git_filemode_t {
        switch self {
        case .regular: GIT_FILEMODE_BLOB
        case .executable: GIT_FILEMODE_BLOB_EXECUTABLE
        case .symlink: GIT_FILEMODE_LINK
        case .directory: GIT_FILEMODE_TREE
        case .submodule: GIT_FILEMODE_COMMIT
        }
    }
}
