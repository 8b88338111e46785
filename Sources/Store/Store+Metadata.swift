import Foundation
import GRDB

// Small named values the reconciler keeps between runs, e.g. the last trunk commit it reconciled.

extension Store {
    /// The value stored under `key`, if any.
    public func value(forKey key: String) throws -> String? {
        try read("read \(key)") { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM metadata WHERE key = ?"), arguments: [key])
        }
    }

    /// Stores `value` under `key` (removes the key when `nil`).
    public func setValue(_ value: String?, forKey key: String, now: Date = .now) throws {
        try write("store \(key)") { db in try Transaction(db: db, store: self).setValue(value, forKey: key, now: now) }
    }

    /// Stores `value` under `key` only if the key currently holds `expected` (`nil`: the key is
    /// absent) — compare-and-swap, so two reconcilers cannot both advance from the same commit.
    ///
    /// - Returns: `false`, with nothing changed, when the current value differs from `expected`.
    public func setValue(_ value: String?, forKey key: String, expecting expected: String?, now: Date = .now) throws -> Bool {
        try write("store \(key)") { db in
            try Transaction(db: db, store: self).setValue(value, forKey: key, expecting: expected, now: now)
        }
    }
}

extension Store.Transaction {
    public func value(forKey key: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM metadata WHERE key = ?"), arguments: [key])
    }

    public func setValue(_ value: String?, forKey key: String, now: Date = .now) throws {
        if let value {
            try db.cachedStatement(
                sql: """
                    INSERT INTO metadata (key, value, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                    """
            ).execute(arguments: [key, value, now.storeMilliseconds])
        } else {
            try db.cachedStatement(sql: "DELETE FROM metadata WHERE key = ?").execute(arguments: [key])
        }
    }

    public func setValue(_ value: String?, forKey key: String, expecting expected: String?, now: Date = .now) throws -> Bool {
        guard try self.value(forKey: key) == expected else { return false }
        try setValue(value, forKey: key, now: now)
        return true
    }
}
