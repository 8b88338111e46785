import Foundation

/// What to do with one path when writing a commit without a work tree.
public enum FileChange: Sendable, Hashable {
    /// Create or replace the file. `mode` is `.regular`, `.executable` or `.symlink` (the data is
    /// then the link target); other modes are refused.
    case write(Data, mode: FileMode = .regular)
    /// Create or replace the file with the contents of the regular file at `path` on disk,
    /// streamed into the object database in chunks: any size, in bounded memory. `mode` is
    /// `.regular` or `.executable`.
    case file(path: String, mode: FileMode = .regular)
    /// Remove the file (or, for a folder's path, the whole folder); the commit throws `.notFound`
    /// when the base tree has no such path. A folder left empty disappears, as git keeps none.
    case delete
}
