import CGit2

extension Repository {
    /// Creates an annotated tag `refs/tags/<name>` on `target` (e.g. `deploy/prod/0001`); never
    /// moves an existing tag. Returns the tag object's id. Throws `GitError`: `.exists` when the
    /// tag exists, `.notFound` when `target` does not, `.other` for a malformed name.
    @discardableResult
    public func createAnnotatedTag(named name: String, target: ObjectID, tagger: Signature, message: String) throws -> ObjectID {
        var tag = git_oid()
        try recoveringStaleLock(of: "refs/tags/" + name) {
            try withObject(target) { object in
                try tagger.withGitSignature { tagger in
                    try check(git_tag_create(&tag, pointer, name, object, tagger, message, 0), "git_tag_create")
                }
            }
        }
        return ObjectID(tag)
    }

    /// The annotated tag `refs/tags/<name>`; nil when there is no such tag or it is a lightweight
    /// one. Throws `GitError` when the tag cannot be read.
    public func annotatedTag(named name: String) throws -> AnnotatedTag? {
        guard let id = try reference(named: "refs/tags/" + name) else { return nil }
        return try annotatedTag(name: name, id: id)
    }

    /// The annotated tags whose short name starts with `prefix` (e.g. `deploy/prod/`), sorted by
    /// name (byte order); lightweight tags are left out. Throws `GitError` when one cannot be read.
    public func annotatedTags(withPrefix prefix: String) throws -> [AnnotatedTag] {
        var tags: [AnnotatedTag] = []
        for reference in try references(withPrefix: "refs/tags/" + prefix) {
            if let tag = try annotatedTag(name: String(reference.name.dropFirst("refs/tags/".count)), id: reference.target) {
                tags.append(tag)
            }
        }
        return tags
    }

    private func annotatedTag(name: String, id: ObjectID) throws -> AnnotatedTag? {
        try withObject(id) { object in
            guard git_object_type(object) == GIT_OBJECT_TAG else { return nil }
            // A git_tag is a git_object of type tag.
            return AnnotatedTag(
                name: name,
                id: id,
                target: ObjectID(git_tag_target_id(object)),
                tagger: git_tag_tagger(object).map(Signature.init),
                message: git_tag_message(object).map { String(cString: $0) } ?? ""
            )
        }
    }
}
