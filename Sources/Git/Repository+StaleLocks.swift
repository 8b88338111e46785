import Foundation

extension Repository {
    /// How old a ref's lock file must be to be taken for one a killed writer left. Writing a ref
    /// holds its lock for milliseconds; a lock this old has no live owner.
    static let staleLockAge: TimeInterval = 10

    /// Runs `body`, which writes the ref `name`; when it fails because the ref is locked and the
    /// lock file is older than `staleLockAge` — a writer killed between taking the lock and
    /// renaming it into place, which git never cleans up by itself — removes the lock and runs
    /// `body` once more.
    func recoveringStaleLock<T>(of name: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as GitError where error.kind == .locked {
            let lock = gitDirectory.appendingPathComponent(name + ".lock").path
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: lock))?[.modificationDate] as? Date,
                Date().timeIntervalSince(modified) > Self.staleLockAge,
                (try? FileManager.default.removeItem(atPath: lock)) != nil
            else { throw error }
            return try body()
        }
    }
}
