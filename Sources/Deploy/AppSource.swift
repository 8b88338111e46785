import Foundation
import Git

/// An app's files at any commit: what `HostDeployer.prepare` ships. Paths are relative to the
/// app's folder (`index.php`, not `app/index.php`).
public struct AppSource {
    /// The recursive listing of the app folder at a commit (files, executables, symlinks).
    public var entries: (ObjectID) throws -> [TreeEntry]
    /// The content of a blob.
    public var blob: (ObjectID) throws -> Data
    /// The time written on the files of a commit's tree (its committer time).
    public var time: (ObjectID) throws -> Date

    public init(
        entries: @escaping (ObjectID) throws -> [TreeEntry],
        blob: @escaping (ObjectID) throws -> Data,
        time: @escaping (ObjectID) throws -> Date
    ) {
        self.entries = entries
        self.blob = blob
        self.time = time
    }

    /// The app at `path` (devsys.yaml `apps.<name>.path`; empty or `.` for the whole tree) of
    /// `repository`. Throws `GitError` from the reads (`.notFound` for an unknown commit).
    public init(repository: Repository, path: String) {
        let folder = path == "." ? "" : path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.init(
            entries: { commit in
                let prefix = folder.isEmpty ? "" : folder + "/"
                return try repository.tree(of: commit, under: folder.isEmpty ? nil : folder, recursive: true).map {
                    TreeEntry(path: String($0.path.dropFirst(prefix.count)), id: $0.id, mode: $0.mode)
                }
            },
            blob: { try repository.blob($0) },
            time: { try repository.commit($0).committer.time }
        )
    }
}
