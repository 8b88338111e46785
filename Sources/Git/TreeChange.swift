/// One path that differs between two trees (no rename detection: a rename is a delete and an add).
public struct TreeChange: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        case added, modified, deleted
    }

    /// Full path from the root.
    public var path: String
    /// `.modified` also covers a mode change (e.g. the executable bit) and a type change.
    public var status: Status
    /// The blob before; nil when added.
    public var oldID: ObjectID?
    /// The blob after; nil when deleted.
    public var newID: ObjectID?

    /// Makes a value by hand (for tests and fakes).
    public init(path: String, status: Status, oldID: ObjectID?, newID: ObjectID?) {
        self.path = path
        self.status = status
        self.oldID = oldID
        self.newID = newID
    }
}
