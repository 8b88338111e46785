/// An annotated tag object, found through its `refs/tags/` reference.
public struct AnnotatedTag: Sendable, Hashable {
    /// The short name, e.g. `deploy/prod/0001`.
    public var name: String
    /// The tag object's own id.
    public var id: ObjectID
    /// The tagged object (usually a commit).
    public var target: ObjectID
    /// Nil for the rare tag written without a tagger.
    public var tagger: Signature?
    /// The message, exactly as stored.
    public var message: String

    /// Makes a tag value by hand (for tests and fakes); read real ones with `Repository.annotatedTag(named:)`.
    public init(name: String, id: ObjectID, target: ObjectID, tagger: Signature?, message: String) {
        self.name = name
        self.id = id
        self.target = target
        self.tagger = tagger
        self.message = message
    }
}
