import CGit2

extension Repository {
    /// The patches turning `oldCommit`'s tree into `newCommit`'s, one per changed file in path
    /// order, as `git diff OLD NEW` prints them (renames detected as git does by default; `index`
    /// lines abbreviated as `core.abbrev` says, else to 7 digits). A nil `oldCommit` compares with
    /// the empty tree. A file over `maxFileSize` bytes is shown like a binary one (libgit2's
    /// default: 512 MiB). Throws `GitError` (`.notFound` when a commit does not exist).
    public func patches(from oldCommit: ObjectID?, to newCommit: ObjectID, contextLines: Int = 3, maxFileSize: Int? = nil) throws -> [FilePatch] {
        let oldTree = try oldCommit.map(treeID(of:))
        let newTree = try treeID(of: newCommit)
        return try withOptionalTree(ofTree: oldTree) { old in
            try withTree(newTree) { new in
                var options = git_diff_options()
                try check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
                options.context_lines = UInt32(max(0, contextLines))
                if let maxFileSize { options.max_size = git_off_t(maxFileSize) }
                let diff = try make("git_diff_tree_to_tree") { git_diff_tree_to_tree($0, pointer, old, new, &options) }
                defer { git_diff_free(diff) }
                var find = git_diff_find_options()
                try check(git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)), "git_diff_find_options_init")
                find.flags = GIT_DIFF_FIND_RENAMES.rawValue
                try check(git_diff_find_similar(diff, &find), "git_diff_find_similar")
                return try (0..<git_diff_num_deltas(diff)).map { try filePatch(diff, index: $0) }
            }
        }
    }

    private func filePatch(_ diff: OpaquePointer, index: Int) throws -> FilePatch {
        var handle: OpaquePointer?
        try check(git_patch_from_diff(&handle, diff, index), "git_patch_from_diff")
        defer { git_patch_free(handle) }
        guard let delta = git_diff_get_delta(diff, index)?.pointee else { throw GitError.missingResult("git_diff_get_delta") }
        let oldPath = delta.old_file.path.map { String(cString: $0) } ?? ""
        let newPath = delta.new_file.path.map { String(cString: $0) } ?? oldPath
        let status: FilePatch.Status =
            switch delta.status {
            case GIT_DELTA_ADDED: .added
            case GIT_DELTA_DELETED: .deleted
            case GIT_DELTA_RENAMED: .renamed
            case GIT_DELTA_COPIED: .copied
            case GIT_DELTA_TYPECHANGE: .typeChanged
            default: .modified
            }
        var binary = delta.flags & GIT_DIFF_FLAG_BINARY.rawValue != 0
        var added = 0
        var deleted = 0
        var text: String
        if let handle {
            var additions = 0
            var deletions = 0
            try check(git_patch_line_stats(nil, &additions, &deletions, handle), "git_patch_line_stats")
            added = additions
            deleted = deletions
            var buffer = git_buf()
            defer { git_buf_dispose(&buffer) }
            try check(git_patch_to_buf(&buffer, handle), "git_patch_to_buf")
            text = buffer.ptr.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: buffer.size), as: UTF8.self) } ?? ""
            // Read the flag again: libgit2 learns a blob is binary while it makes the patch.
            binary = (git_patch_get_delta(handle)?.pointee.flags ?? 0) & GIT_DIFF_FLAG_BINARY.rawValue != 0
        } else {
            // No patch is made for a binary file by some libgit2 versions: say what git says.
            binary = true
            text = "diff --git a/\(oldPath) b/\(newPath)\nBinary files a/\(oldPath) and b/\(newPath) differ\n"
        }
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        return FilePatch(
            path: status == .deleted ? oldPath : newPath,
            oldPath: [.renamed, .copied].contains(status) ? oldPath : nil,
            status: status,
            isBinary: binary,
            added: binary ? 0 : added,
            deleted: binary ? 0 : deleted,
            text: text
        )
    }
}
