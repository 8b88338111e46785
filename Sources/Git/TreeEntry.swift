/// One entry of a tree listing, named by its full path from the root.
public struct TreeEntry: Sendable, Hashable {
    /// Full path from the root, e.g. `app/index.php`.
    public var path: String
    public var id: ObjectID
    public var mode: FileMode

    /// Makes a value by hand (for tests and fakes).
    public init(path: String, id: ObjectID, mode: FileMode) {
        self.path = path
        self.id = id
        self.mode = mode
    }
}
