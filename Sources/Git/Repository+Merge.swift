import CGit2

extension Repository {
    /// The best common ancestor of two commits; nil when their histories are unrelated.
    /// Throws `GitError` (`.notFound` when a commit does not exist).
    public func mergeBase(_ a: ObjectID, _ b: ObjectID) throws -> ObjectID? {
        var base = git_oid()
        var one = a.oid
        var two = b.oid
        let code = git_merge_base(&base, pointer, &one, &two)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(code, "git_merge_base")
        return ObjectID(base)
    }

    /// Whether `ancestor` is reachable from `descendant`; true when they are equal (like
    /// `git merge-base --is-ancestor`). Throws `GitError` (`.notFound` when a commit does not exist).
    public func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID) throws -> Bool {
        if ancestor == descendant { return true }
        var commit = descendant.oid
        var older = ancestor.oid
        let code = git_graph_descendant_of(pointer, &commit, &older)
        try check(code, "git_graph_descendant_of")
        return code == 1
    }

    /// Merges `theirs` into `ours` in memory (git's default strategy with rename detection) and
    /// writes a merge commit with parents `[ours, theirs]` — always a merge commit, even when one
    /// side contains the other. No ref moves. Conflicts give `.conflicts` with the sorted paths and
    /// write nothing. Throws `GitError` (`.notFound` when a commit does not exist).
    public func merge(_ ours: ObjectID, _ theirs: ObjectID, message: String, author: Signature, committer: Signature? = nil) throws -> MergeResult {
        let index = try withCommit(ours) { oursCommit in
            try withCommit(theirs) { theirsCommit in
                try make("git_merge_commits") { git_merge_commits($0, pointer, oursCommit, theirsCommit, nil) }
            }
        }
        defer { git_index_free(index) }
        if git_index_has_conflicts(index) == 1 { return .conflicts(try conflictPaths(in: index)) }
        var tree = git_oid()
        try check(git_index_write_tree_to(&tree, index, pointer), "git_index_write_tree_to")
        let merge = try writeCommit(tree: ObjectID(tree), parents: [ours, theirs], message: message, author: author, committer: committer ?? author)
        return .merged(merge)
    }

    private func conflictPaths(in index: OpaquePointer) throws -> [String] {
        let iterator = try make("git_index_conflict_iterator_new") { git_index_conflict_iterator_new($0, index) }
        defer { git_index_conflict_iterator_free(iterator) }
        var paths: Set<String> = []
        while true {
            var ancestor: UnsafePointer<git_index_entry>?
            var ours: UnsafePointer<git_index_entry>?
            var theirs: UnsafePointer<git_index_entry>?
            let code = git_index_conflict_next(&ancestor, &ours, &theirs, iterator)
            if code == GIT_ITEROVER.rawValue {
                git_error_clear()
                break
            }
            try check(code, "git_index_conflict_next")
            for entry in [ours, theirs, ancestor] {
                if let path = entry?.pointee.path { paths.insert(String(cString: path)) }
            }
        }
        return paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
