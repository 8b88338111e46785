import Foundation
import GRDB

/// devsys's durable state in one SQLite file: tasks, the job queue, events, the audit log and the
/// reconciler's metadata.
///
/// The file is opened as a GRDB `DatabasePool` in WAL mode, so readers never wait for the writer and
/// several processes can share it (SQLite's file locks serialise their writes). Every method that
/// changes more than one row does it in one transaction: a crash leaves nothing half-written.
/// The tasks can be rebuilt from git (`devsys reindex`); events, audit and finished jobs are history.
public final class Store: Sendable {
    /// The database file.
    public let path: URL
    /// Where the jitter of retry delays comes from; tests pass a fixed one.
    public let random: RandomSource
    let pool: DatabasePool

    /// Opens the state database at `path`, creating the file and its folder if needed, and brings
    /// its schema up to date.
    ///
    /// - Parameters:
    ///   - random: The source of retry jitter (see ``RetryBackoff``).
    ///   - busyTimeout: How long a write waits for another process's write to finish.
    /// - Throws: ``StoreError/cannotOpen(path:reason:)`` when the folder cannot be created, the file
    ///   cannot be opened, is damaged, or belongs to another application;
    ///   ``StoreError/schemaTooNew(path:unknownMigrations:)`` when a newer devsys wrote it.
    public init(path: URL, random: RandomSource = .system, busyTimeout: TimeInterval = 10) throws {
        self.path = path
        self.random = random
        let file = path.path
        do {
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw StoreError.cannotOpen(path: file, reason: "cannot create its folder: \(error.localizedDescription)")
        }
        // The controller's user only (the audit log, token hashes): made 0600 before SQLite opens
        // it, which gives its -wal and -shm files the same mode; an older, wider file is tightened.
        if FileManager.default.fileExists(atPath: file) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        } else if !FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600]) {
            throw StoreError.cannotOpen(path: file, reason: "cannot create the file in \(path.deletingLastPathComponent().path)")
        }

        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            // In WAL mode, synchronous=NORMAL makes a commit durable across a crash of the process (the
            // WAL write has reached the OS); only a power loss or kernel crash can lose the last commits.
            // That is what at-least-once jobs need, and a lost tail is recovered by re-running
            // idempotent jobs or `devsys reindex`. FULL fsyncs the WAL on every commit: 4× to 40× slower here.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }

        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: file, configuration: configuration)
        } catch let error as DatabaseError {
            // GRDB closes the connections it opened before rethrowing.
            throw StoreError.cannotOpen(path: file, reason: Self.explain(error))
        }
        do {
            try Self.checkOwnership(of: pool, file: file)
            try Self.migrate(pool, file: file)
        } catch {
            try? pool.close()
            if let error = error as? DatabaseError {
                throw StoreError.cannotOpen(path: file, reason: Self.explain(error))
            }
            throw error
        }
        self.pool = pool
    }

    /// Refuses a SQLite file that some other application made, and one a newer devsys migrated.
    private static func checkOwnership(of pool: DatabasePool, file: String) throws {
        try pool.read { db in
            let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            if applicationID != Schema.applicationID {
                let objects = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
                if applicationID != 0 || objects > 0 {
                    throw StoreError.cannotOpen(
                        path: file,
                        reason: "it is a SQLite database of another application (application_id \(applicationID)); "
                            + "point --state at a devsys state folder, or move the file aside"
                    )
                }
            }
            let migrator = Schema.migrator
            if try migrator.hasBeenSuperseded(db) {
                let known = Set(migrator.migrations)
                let unknown = try migrator.appliedIdentifiers(db).subtracting(known).sorted()
                throw StoreError.schemaTooNew(path: file, unknownMigrations: unknown)
            }
        }
    }

    private static func migrate(_ pool: DatabasePool, file: String) throws {
        let migrator = Schema.migrator
        do {
            try migrator.migrate(pool)
        } catch {
            // Two processes opening a new file at once: the loser's migration fails on tables the
            // winner just made. The schema is complete then, which is all we need.
            if (try? pool.read(migrator.hasCompletedMigrations)) == true { return }
            throw error
        }
    }

    /// Says what an SQLite error on open means for the user, and what to do.
    private static func explain(_ error: DatabaseError) -> String {
        let message = error.message ?? "\(error.resultCode)"
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return "the file is not a SQLite database or is damaged (\(message)). Move it aside, then run "
                + "`devsys reindex` to rebuild the tasks from git (events and the audit log start afresh)"
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return "SQLite cannot open it for writing (\(message)); check that the path names a file, "
                + "not a folder, and that you may write to it and to its folder"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "another process holds it locked (\(message)); stop the other devsys or wait, then retry"
        case .SQLITE_FULL, .SQLITE_IOERR:
            return "the disk refused the write (\(message)); check free space and the disk"
        default:
            return message
        }
    }

    /// Closes the database file; the store must not be used afterwards. The WAL is checkpointed
    /// first, so the database file alone then holds every commit (as a copy or backup needs).
    /// Releasing the last reference to the store closes it too, without the checkpoint.
    public func close() throws {
        do {
            // GRDB closes the writer before the read-only readers, so no connection could checkpoint
            // on close: do it while the writer is open.
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            try pool.close()
        } catch let error as DatabaseError {
            throw StoreError.database(path: path.path, operation: "close", message: error.description)
        }
    }

    // MARK: - Transactions

    /// Runs `body` in one write transaction: either all its changes are committed or none is.
    /// Use it to combine steps, e.g. a task transition with the enqueue of the next job.
    ///
    /// - Throws: What `body` throws (the transaction is rolled back), or ``StoreError/database(path:operation:message:)``.
    public func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        try write("run a transaction") { db in try body(Transaction(db: db, store: self)) }
    }

    /// A write transaction in progress; it gives the same changes as the ``Store`` itself, applied
    /// together when ``Store/transaction(_:)`` returns. Do not keep it past the closure.
    public struct Transaction {
        let db: Database
        let store: Store
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the writer connection: it takes the write
    /// lock at once (waiting up to the busy timeout for another process), so the transaction never
    /// fails half-way on a lock upgrade. BEGIN and COMMIT are cached statements, prepared once per
    /// connection, which matters on the queue's path of one small transaction per job transition.
    func write<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
                do {
                    let value = try body(db)
                    try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                    return value
                } catch {
                    if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK TRANSACTION") }
                    throw error
                }
            }
        } catch let error as DatabaseError {
            throw StoreError.database(path: path.path, operation: operation(), message: error.description)
        }
    }

    func read<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as DatabaseError {
            throw StoreError.database(path: path.path, operation: operation(), message: error.description)
        }
    }
}

extension Store {
    /// The SQLite library the store runs on ("3.40.1"), for `devsys doctor`.
    public static func sqliteVersion() -> String {
        (try? DatabaseQueue().read { try String.fetchOne($0, sql: "SELECT sqlite_version()") }) ?? "unknown"
    }
}
