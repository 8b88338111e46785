import Git

/// What an incremental upload does to a copy of the previous revision: the entries to send and
/// the paths to remove first. A changed file is removed too, so it gets a new inode instead of
/// being written through a hard link shared with the previous (maybe live) revision.
struct TreeChanges {
    /// Entries of the new tree that are new or differ (content, mode or kind).
    var sent: [TreeEntry]
    /// Paths of the old tree that are gone or changed, and folders that became files.
    var deleted: [String]
    /// Whether removing `deleted` can leave empty folders behind: some path is gone for good
    /// (a changed file is sent again into the same folder).
    var leavesEmptyFolders: Bool

    init(from old: [TreeEntry], to new: [TreeEntry]) {
        let before = Dictionary(old.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        sent = new.filter { entry in
            guard let previous = before[entry.path] else { return true }
            return previous.id != entry.id || previous.mode != entry.mode
        }
        var deleted = old.filter { entry in
            guard let next = after[entry.path] else { return true }
            return next.id != entry.id || next.mode != entry.mode
        }.map(\.path)
        var oldFolders: Set<String> = []
        for entry in old {
            var path = Substring(entry.path)
            while let slash = path.lastIndex(of: "/") {
                path = path[..<slash]
                oldFolders.insert(String(path))
            }
        }
        let foldersReplaced = new.map(\.path).filter { oldFolders.contains($0) }
        deleted += foldersReplaced
        self.deleted = deleted
        leavesEmptyFolders = !foldersReplaced.isEmpty || old.contains { after[$0.path] == nil }
    }
}
