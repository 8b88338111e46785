import Foundation
import GRDB

extension Store {
    /// Ends every lease not held by `worker` now, so their jobs can be leased again at once
    /// (each as a new attempt). A controller calls it at start, holding the one-controller lock:
    /// any other lease belongs to a controller that was killed.
    /// - Returns: how many leases were ended.
    @discardableResult
    public func releaseLeases(notOwnedBy worker: String, now: Date = .now) throws -> Int {
        try write("release the leases of stopped controllers") { db in
            try db.execute(
                sql: "UPDATE job SET lease_expires = ?, updated_at = ? WHERE state = 'leased' AND lease_owner IS NOT ? AND lease_expires > ?",
                arguments: [now.storeMilliseconds, now.storeMilliseconds, worker, now.storeMilliseconds]
            )
            return db.changesCount
        }
    }
}
