import CGit2

extension Repository {
    /// The paths that differ between two commits' trees, sorted by path; a nil `oldCommit` compares
    /// with the empty tree (everything is added). No rename detection.
    /// Throws `GitError` (`.notFound` when a commit does not exist).
    public func diff(from oldCommit: ObjectID?, to newCommit: ObjectID) throws -> [TreeChange] {
        try diff(fromTree: oldCommit.map(treeID(of:)), toTree: treeID(of: newCommit))
    }

    /// The paths that differ between two trees, sorted by path; nil stands for the empty tree.
    /// Throws `GitError` (`.notFound` when a tree does not exist).
    public func diff(fromTree: ObjectID?, toTree: ObjectID?) throws -> [TreeChange] {
        var options = git_diff_options()
        try check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
        // Submodule status would look at the work tree; only the recorded commit ids matter here.
        options.ignore_submodules = GIT_SUBMODULE_IGNORE_DIRTY
        let diff = try withOptionalTree(ofTree: fromTree) { old in
            try withOptionalTree(ofTree: toTree) { new in
                try make("git_diff_tree_to_tree") { git_diff_tree_to_tree($0, pointer, old, new, &options) }
            }
        }
        defer { git_diff_free(diff) }
        var changes: [TreeChange] = []
        for index in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, index)?.pointee else { continue }
            let status: TreeChange.Status
            switch delta.status {
            case GIT_DELTA_ADDED: status = .added
            case GIT_DELTA_DELETED: status = .deleted
            case GIT_DELTA_MODIFIED, GIT_DELTA_TYPECHANGE: status = .modified
            default: continue
            }
            let newPath: UnsafePointer<CChar>? = delta.new_file.path
            guard let cPath = newPath ?? delta.old_file.path else { continue }
            changes.append(
                TreeChange(
                    path: String(cString: cPath),
                    status: status,
                    oldID: status == .added ? nil : ObjectID(delta.old_file.id),
                    newID: status == .deleted ? nil : ObjectID(delta.new_file.id)
                )
            )
        }
        return changes.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }
}
