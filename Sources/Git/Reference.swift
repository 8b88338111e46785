/// A reference and the object it points at.
public struct Reference: Sendable, Hashable {
    /// The full name, e.g. `refs/heads/task/42`.
    public var name: String
    /// The object the ref names directly (symbolic refs are resolved; annotated tags are not peeled).
    public var target: ObjectID

    /// Makes a value by hand (for tests and fakes).
    public init(name: String, target: ObjectID) {
        self.name = name
        self.target = target
    }
}
