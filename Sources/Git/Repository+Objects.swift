import CGit2
import Foundation

extension Repository {
    /// The commit a revision names: any `git rev-parse` expression (`HEAD~1`, `main`, a short id,
    /// `deploy/prod/0001`), peeled to a commit.
    /// Throws `GitError` — `.notFound` when nothing matches; `.other` when it is ambiguous or names
    /// something that is not a commit.
    public func resolve(_ revision: String) throws -> ObjectID {
        let object = try make("git_revparse_single") { git_revparse_single($0, pointer, revision) }
        defer { git_object_free(object) }
        let commit = try make("git_object_peel") { git_object_peel($0, object, GIT_OBJECT_COMMIT) }
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// Reads a commit. Throws `GitError` (`.notFound` when there is no such commit).
    public func commit(_ id: ObjectID) throws -> Commit {
        try withCommit(id) { Commit($0) }
    }

    /// The root tree of a commit. Throws `GitError` (`.notFound` when there is no such commit).
    public func treeID(of commit: ObjectID) throws -> ObjectID {
        try withCommit(commit) { ObjectID(git_commit_tree_id($0)) }
    }

    /// The content of the file at `path` in `commit` (a commit or a tree id); nil when the path
    /// does not exist there or is not a file (a folder or a submodule). A symlink gives its target.
    /// Throws `GitError` — `.invalidPath` for a path that is not clean and relative, `.notFound`
    /// when the commit does not exist.
    public func file(at path: String, in commit: ObjectID) throws -> Data? {
        let path = try RepositoryPath.validate(path, in: "Repository.file(at:in:)")
        let tree = try rootTree(of: commit)
        guard let entry = try entry(at: path, inTree: tree) else { return nil }
        switch entry.mode {
        case .regular, .executable, .symlink: return try blob(entry.id)
        case .directory, .submodule: return nil
        }
    }

    /// The entry at a (validated) path below a tree; nil when it does not exist.
    func entry(at path: String, inTree tree: ObjectID) throws -> TreeEntry? {
        try withTree(tree) { root in
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, root, path)
            if code == GIT_ENOTFOUND.rawValue {
                git_error_clear()
                return nil
            }
            try check(code, "git_tree_entry_bypath")
            guard let entry else { throw GitError.missingResult("git_tree_entry_bypath") }
            defer { git_tree_entry_free(entry) }
            guard let mode = FileMode(git_tree_entry_filemode(entry)) else { return nil }
            return TreeEntry(path: path, id: ObjectID(git_tree_entry_id(entry)), mode: mode)
        }
    }

    /// `id` itself when it names a tree, else the root tree of the commit it names; lets readers
    /// take the staged tree (pre-commit) as well as commits.
    func rootTree(of id: ObjectID) throws -> ObjectID {
        var oid = id.oid
        var size = 0
        var type = GIT_OBJECT_INVALID
        try check(git_odb_read_header(&size, &type, odb, &oid), "git_odb_read_header")
        return type == GIT_OBJECT_TREE ? id : try treeID(of: id)
    }

    /// The content of a blob. Throws `GitError` (`.notFound` when there is no such blob).
    public func blob(_ id: ObjectID) throws -> Data {
        var oid = id.oid
        let blob = try make("git_blob_lookup") { git_blob_lookup($0, pointer, &oid) }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let content = git_blob_rawcontent(blob) else { return Data() }
        return Data(bytes: content, count: size)
    }

    /// The size in bytes of an object (normally a blob) without reading its content.
    /// Throws `GitError` (`.notFound` when there is no such object).
    public func blobSize(_ id: ObjectID) throws -> Int {
        var oid = id.oid
        var size = 0
        var type = GIT_OBJECT_INVALID
        try check(git_odb_read_header(&size, &type, odb, &oid), "git_odb_read_header")
        return size
    }

    /// The entries of a commit's tree (or of a tree, given its id), sorted by path (byte order).
    ///
    /// `recursive` lists every file, symlink and submodule below (like `git ls-tree -r`, no folder
    /// entries); otherwise one level, folders included (like `git ls-tree`). `under` restricts the
    /// listing to a folder; paths stay full paths from the root, and a folder that does not exist
    /// gives `[]`. Throws `GitError` (`.notFound` for a missing commit, `.invalidPath` for a bad `under`).
    public func tree(of commit: ObjectID, under path: String? = nil, recursive: Bool = true) throws -> [TreeEntry] {
        var root = try rootTree(of: commit)
        var prefix = ""
        if var path, !path.isEmpty {
            while path.hasSuffix("/") { path.removeLast() }
            prefix = try RepositoryPath.validate(path, in: "Repository.tree(of:under:recursive:)")
            guard let folder = try entry(at: prefix, inTree: root), folder.mode == .directory else { return [] }
            root = folder.id
        }
        var entries: [TreeEntry] = []
        try collectEntries(ofTree: root, prefix: prefix, recursive: recursive, into: &entries)
        return entries.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    private func collectEntries(ofTree id: ObjectID, prefix: String, recursive: Bool, into entries: inout [TreeEntry]) throws {
        try withTree(id) { tree in
            for index in 0..<git_tree_entrycount(tree) {
                guard let entry = git_tree_entry_byindex(tree, index), let mode = FileMode(git_tree_entry_filemode(entry)) else { continue }
                let name = try TreeEntryName.decode(git_tree_entry_name(entry), under: prefix.isEmpty ? "" : prefix + "/", in: "Repository.tree")
                let path = prefix.isEmpty ? name : prefix + "/" + name
                let entryID = ObjectID(git_tree_entry_id(entry))
                if mode == .directory && recursive {
                    try collectEntries(ofTree: entryID, prefix: path, recursive: true, into: &entries)
                } else {
                    entries.append(TreeEntry(path: path, id: entryID, mode: mode))
                }
            }
        }
    }

    /// The commit HEAD points at; nil on an unborn branch (a new repository).
    /// Throws `GitError` when HEAD is broken or does not lead to a commit.
    public func headCommit() throws -> ObjectID? {
        var head: OpaquePointer?
        let code = git_repository_head(&head, pointer)
        if code == GIT_EUNBORNBRANCH.rawValue || code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(code, "git_repository_head")
        guard let head else { throw GitError.missingResult("git_repository_head") }
        defer { git_reference_free(head) }
        let commit = try make("git_reference_peel") { git_reference_peel($0, head, GIT_OBJECT_COMMIT) }
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// Writes the staged content (the index) as a tree and returns its id, for pre-commit checks.
    /// Reads the index git names in `GIT_INDEX_FILE` when set (as git does inside hooks), else the
    /// repository's own. Throws `GitError` — `.conflict` while the index has unmerged entries.
    public func stagedTree() throws -> ObjectID {
        try stagedTree(environment: ProcessInfo.processInfo.environment)
    }

    /// `stagedTree()` reading `GIT_INDEX_FILE` from `environment` instead of the process's.
    public func stagedTree(environment: [String: String]) throws -> ObjectID {
        var tree = git_oid()
        if let indexFile = environment["GIT_INDEX_FILE"], !indexFile.isEmpty {
            let path = indexFile.hasPrefix("/") ? indexFile : FileManager.default.currentDirectoryPath + "/" + indexFile
            let index = try make("git_index_open") { git_index_open($0, path) }
            defer { git_index_free(index) }
            try check(git_index_write_tree_to(&tree, index, pointer), "git_index_write_tree_to")
        } else {
            let index = try make("git_repository_index") { git_repository_index($0, pointer) }
            defer { git_index_free(index) }
            try check(git_index_read(index, 0), "git_index_read")
            try check(git_index_write_tree(&tree, index), "git_index_write_tree")
        }
        return ObjectID(tree)
    }
}
