import CGit2

extension Repository {
    /// The commits reachable from `start`, newest first: children before their parents, otherwise
    /// by commit time (like `git rev-list --date-order`, which is `git log`'s order unless clocks are
    /// skewed), at most `limit` of them; `firstParentOnly` follows only first parents
    /// (`--first-parent`). Throws `GitError` (`.notFound` when `start` does not exist).
    public func log(from start: ObjectID, limit: Int? = nil, firstParentOnly: Bool = false) throws -> [Commit] {
        let walk = try make("git_revwalk_new") { git_revwalk_new($0, pointer) }
        defer { git_revwalk_free(walk) }
        try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), "git_revwalk_sorting")
        if firstParentOnly { try check(git_revwalk_simplify_first_parent(walk), "git_revwalk_simplify_first_parent") }
        var oid = start.oid
        try check(git_revwalk_push(walk, &oid), "git_revwalk_push")
        var commits: [Commit] = []
        while limit.map({ commits.count < $0 }) ?? true {
            var next = git_oid()
            let code = git_revwalk_next(&next, walk)
            if code == GIT_ITEROVER.rawValue {
                git_error_clear()
                break
            }
            try check(code, "git_revwalk_next")
            commits.append(try commit(ObjectID(next)))
        }
        return commits
    }
}
