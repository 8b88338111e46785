/// The outcome of `Repository.merge(_:_:message:author:committer:)`.
public enum MergeResult: Sendable, Hashable {
    /// The id of the new two-parent merge commit (no ref was moved).
    case merged(ObjectID)
    /// The paths that conflict, sorted; nothing was written.
    case conflicts([String])
}
