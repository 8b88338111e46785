import CGit2
import Foundation

extension Repository {
    /// Writes a commit from an in-memory change set, without a work tree, and moves `branch` to it.
    ///
    /// The new tree is `parent`'s tree with `changes` applied (an empty tree for a root commit);
    /// `branch` (a full name, e.g. `refs/heads/main`) then moves from `parent` to the new commit
    /// with compare-and-swap — a nil `parent` means the branch must not exist yet. No hooks run.
    /// Throws `GitError`: `.modified` when the branch is no longer at `parent`, `.exists` when it
    /// already exists for a root commit, `.locked` while another writer holds it (in those three
    /// cases the commit object was written but nothing points at it), `.invalidPath` for a bad
    /// path, `.notFound` when deleting a path that is not there.
    @discardableResult
    public func commit(
        changes: [String: FileChange],
        onto branch: String,
        parent: ObjectID?,
        message: String,
        author: Signature,
        committer: Signature? = nil
    ) throws -> ObjectID {
        let id = try createCommit(
            changes: changes,
            parents: parent.map { [$0] } ?? [],
            message: message,
            author: author,
            committer: committer
        )
        let summary = message.prefix { $0 != "\n" }
        try moveReference(
            branch,
            to: id,
            expecting: parent,
            message: parent == nil ? "commit (initial): \(summary)" : "commit: \(summary)",
            signature: committer ?? author
        )
        return id
    }

    /// Writes a commit object from an in-memory change set without moving any ref.
    ///
    /// The base tree is that of `parents.first` (empty when there are no parents). `committer`
    /// defaults to `author`. Throws `GitError`: `.invalidPath` for a bad path or a mode other than
    /// regular, executable or symlink, `.notFound` when a parent does not exist or a deleted path
    /// is not in the base tree.
    public func createCommit(
        changes: [String: FileChange],
        parents: [ObjectID],
        message: String,
        author: Signature,
        committer: Signature? = nil
    ) throws -> ObjectID {
        let function = "Repository.createCommit(changes:parents:message:author:committer:)"
        for (path, change) in changes {
            _ = try RepositoryPath.validate(path, in: function)
            if case .write(_, let mode) = change, mode == .directory || mode == .submodule {
                throw GitError(
                    code: GIT_EINVALID.rawValue,
                    message: "cannot write '\(path)' as a \(mode): only regular, executable and symlink files can be written",
                    function: function,
                    kind: .invalidPath
                )
            }
            if case .file(_, let mode) = change, mode != .regular && mode != .executable {
                throw GitError(
                    code: GIT_EINVALID.rawValue,
                    message: "cannot write '\(path)' from a file as a \(mode): only regular and executable files are read from disk",
                    function: function,
                    kind: .invalidPath
                )
            }
        }
        let baseTree = try parents.first.map(commitTree(of:))
        for parent in parents.dropFirst() where recentCommitTrees[parent] == nil {
            try requireCommit(parent, in: function)
        }
        let changeList = changes.map { path, change in
            PendingChange(path: path, components: path.split(separator: "/").map { Array($0.utf8) }, change: change)
        }
        let tree = try buildTree(changeList, depth: 0, base: baseTree, in: function) ?? writeTree([])
        return try writeCommit(tree: tree, parents: parents, message: message, author: author, committer: committer ?? author)
    }

    /// The tree of a commit, from memory when devsys wrote or read that commit lately.
    func commitTree(of commit: ObjectID) throws -> ObjectID {
        if let tree = recentCommitTrees[commit] { return tree }
        let tree = try treeID(of: commit)
        recentCommitTrees[commit] = tree
        return tree
    }

    /// Throws `.notFound` unless `id` names a commit (strict object creation is off; see `LibGit2`).
    func requireCommit(_ id: ObjectID, in function: String) throws {
        var oid = id.oid
        var size = 0
        var type = GIT_OBJECT_INVALID
        let code = git_odb_read_header(&size, &type, odb, &oid)
        if code == GIT_ENOTFOUND.rawValue || (code == 0 && type != GIT_OBJECT_COMMIT) {
            git_error_clear()
            throw GitError(
                code: GIT_ENOTFOUND.rawValue,
                errorClass: Int32(GIT_ERROR_OBJECT.rawValue),
                message: "parent \(id) is not a commit in this repository",
                function: function
            )
        }
        try check(code, "git_odb_read_header")
    }

    /// One path of a change set, split into its components.
    struct PendingChange {
        var path: String
        var components: [[UInt8]]
        var change: FileChange
    }

    /// Writes the tree that is `base` with `changes` applied at `depth` and below, and returns its
    /// id — nil when it ends up empty (git keeps no empty folders).
    private func buildTree(_ changes: [PendingChange], depth: Int, base: ObjectID?, in function: String) throws -> ObjectID? {
        var items: [[UInt8]: TreeItem] = [:]
        if let base {
            for item in try treeItems(base) { items[item.name] = item }
        }
        var byName: [[UInt8]: [PendingChange]] = [:]
        for change in changes { byName[change.components[depth], default: []].append(change) }
        for (name, group) in byName {
            if let leaf = group.first(where: { $0.components.count == depth + 1 }) {
                guard group.count == 1 else {
                    throw GitError.invalidPath(leaf.path, "it is changed as a file and used as a folder in the same commit", in: function)
                }
                switch leaf.change {
                case .write(let data, let mode):
                    items[name] = TreeItem(name: name, mode: mode.gitMode.rawValue, id: try writeBlob(data))
                case .file(let file, let mode):
                    items[name] = TreeItem(name: name, mode: mode.gitMode.rawValue, id: try objectWriter().writeBlob(fromFile: file))
                case .delete:
                    if items.removeValue(forKey: name) == nil {
                        // Said here with the path; libgit2's wording names neither.
                        throw GitError(
                            code: GIT_ENOTFOUND.rawValue,
                            errorClass: Int32(GIT_ERROR_TREE.rawValue),
                            message: "cannot delete '\(leaf.path)': it is not in the parent commit's tree",
                            function: function
                        )
                    }
                }
            } else {
                let existing = items[name]
                let subtree = try buildTree(group, depth: depth + 1, base: existing?.isTree == true ? existing?.id : nil, in: function)
                items[name] = subtree.map { TreeItem(name: name, mode: TreeItem.treeMode, id: $0) }
            }
        }
        if items.isEmpty && depth > 0 { return nil }
        return try writeTree(Array(items.values))
    }

    /// The entries of a tree, from memory when devsys wrote or read it lately.
    func treeItems(_ id: ObjectID) throws -> [TreeItem] {
        if let items = recentTrees[id] { return items }
        let items = try withTree(id) { tree in
            (0..<git_tree_entrycount(tree)).compactMap { index -> TreeItem? in
                guard let entry = git_tree_entry_byindex(tree, index), let name = git_tree_entry_name(entry) else { return nil }
                let bytes = UnsafeRawBufferPointer(start: name, count: strlen(name))
                return TreeItem(name: Array(bytes), mode: git_tree_entry_filemode_raw(entry).rawValue, id: ObjectID(git_tree_entry_id(entry)))
            }
        }
        recentTrees[id] = items
        return items
    }

    func writeTree(_ items: [TreeItem]) throws -> ObjectID {
        let id = try objectWriter().write(TreeItem.treeObject(items), type: GIT_OBJECT_TREE)
        recentTrees[id] = items
        return id
    }

    func writeBlob(_ data: Data) throws -> ObjectID {
        let writer = try objectWriter()
        return try data.withUnsafeBytes { try writer.write($0, type: GIT_OBJECT_BLOB) }
    }

    /// Writes a commit object for an existing tree and parents, formatted as git does
    /// (`tree`, `parent`…, `author`, `committer`, a blank line, the message as given).
    func writeCommit(tree: ObjectID, parents: [ObjectID], message: String, author: Signature, committer: Signature) throws -> ObjectID {
        guard !message.utf8.contains(0) else {
            throw GitError(code: GIT_EINVALID.rawValue, message: "a commit message cannot contain a NUL byte", function: "Repository.writeCommit")
        }
        var text = "tree \(tree.hex)\n"
        for parent in parents { text += "parent \(parent.hex)\n" }
        text += "author \(try author.gitHeaderValue())\ncommitter \(try committer.gitHeaderValue())\n\n"
        text += message
        let id = try objectWriter().write(Array(text.utf8), type: GIT_OBJECT_COMMIT)
        recentCommitTrees[id] = tree
        return id
    }
}
