import CGit2

/// A commit, copied out of the object database.
public struct Commit: Sendable, Hashable {
    public var id: ObjectID
    /// The root tree.
    public var tree: ObjectID
    /// Parents in order; the first is the branch the commit was made on.
    public var parents: [ObjectID]
    public var author: Signature
    public var committer: Signature
    /// The full message, exactly as stored.
    public var message: String
    /// The first paragraph of the message on one line, as `git log --format=%s` shows it.
    public var summary: String

    /// Makes a commit value by hand (for tests and fakes); read real ones with `Repository.commit(_:)`.
    public init(
        id: ObjectID,
        tree: ObjectID,
        parents: [ObjectID],
        author: Signature,
        committer: Signature,
        message: String,
        summary: String
    ) {
        self.id = id
        self.tree = tree
        self.parents = parents
        self.author = author
        self.committer = committer
        self.message = message
        self.summary = summary
    }

    init(_ commit: OpaquePointer) {
        id = ObjectID(git_commit_id(commit))
        tree = ObjectID(git_commit_tree_id(commit))
        parents = (0..<git_commit_parentcount(commit)).compactMap { index in
            git_commit_parent_id(commit, index).map(ObjectID.init)
        }
        author = Signature(git_commit_author(commit))
        committer = Signature(git_commit_committer(commit))
        message = git_commit_message(commit).map { String(cString: $0) } ?? ""
        summary = git_commit_summary(commit).map { String(cString: $0) } ?? ""
    }
}
