import Foundation
import Store
import TestSupport
import Testing

@Suite("Opening the state database")
struct OpeningTests {
    @Test("a new file is created with its folder, migrated, and in WAL mode as the sqlite3 CLI sees it")
    func newFileIsMigratedInWALMode() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)

        #expect(FileManager.default.fileExists(atPath: folder.databaseURL.path))
        #expect(try sqlite3(folder.databaseURL, "PRAGMA journal_mode;").output == "wal")
        #expect(try sqlite3(folder.databaseURL, "SELECT identifier FROM grdb_migrations;").output == "v1\nv2")
        let tables = try sqlite3(folder.databaseURL, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;").output
        // The store is the controller's user's only, and so are its WAL files.
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: folder.databaseURL.path + suffix) {
            let mode = try FileManager.default.attributesOfItem(atPath: folder.databaseURL.path + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "devsys.sqlite\(suffix) is 0600")
        }
        for table in ["audit", "event", "job", "job_sandbox", "metadata", "task"] {
            #expect(tables.split(separator: "\n").contains(Substring(table)))
        }
        #expect(try store.tasks().isEmpty)
    }

    @Test("reopening an existing file keeps its tasks, jobs, events and metadata, and migrates nothing again")
    func reopeningKeepsData() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        do {
            let store = try Store(path: folder.databaseURL)
            try store.upsertTask(sampleTask("42"))
            try store.enqueue(key("42"), payload: Data(#"{"prompt":"x"}"#.utf8), maxAttempts: 3, notBefore: t0, now: t0)
            try store.setValue("abc123", forKey: "trunk")
            try store.close()
        }
        let reopened = try Store(path: folder.databaseURL)
        #expect(try reopened.task(id: "42") == sampleTask("42"))
        let job = try #require(try reopened.job(key: key("42")))
        #expect(job.payload == Data(#"{"prompt":"x"}"#.utf8))
        #expect(job.state == .pending)
        #expect(job.notBefore == t0)
        #expect(try reopened.value(forKey: "trunk") == "abc123")
        #expect(try reopened.events(taskID: "42").map(\.kind) == ["task.created"])
        #expect(try sqlite3(folder.databaseURL, "SELECT count(*) FROM grdb_migrations;").output == "2")
    }

    @Test("a file of garbage is refused with an error naming the file and saying how to recover")
    func corruptFileIsRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.url.appendingPathComponent("devsys.sqlite")
        try Data(String(repeating: "this is not a database\n", count: 400).utf8).write(to: path)

        let error = try #require(throws: StoreError.self) { try Store(path: path) }
        guard case .cannotOpen(let reportedPath, let reason) = error else {
            Issue.record("expected cannotOpen, got \(error)")
            return
        }
        #expect(reportedPath == path.path)
        #expect(reason.contains("not a SQLite database or is damaged"))
        #expect(error.description.contains(path.path))
        #expect(error.description.contains("devsys reindex"))
        // Refusing did not touch the file.
        #expect(try String(contentsOf: path, encoding: .utf8).hasPrefix("this is not a database"))
    }

    @Test("another application's SQLite file is refused, not migrated")
    func foreignDatabaseIsRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.url.appendingPathComponent("notes.sqlite")
        #expect(try sqlite3(path, "CREATE TABLE notes (body TEXT);").status == 0)

        let error = try #require(throws: StoreError.self) { try Store(path: path) }
        #expect(error.description.contains(path.path))
        #expect(error.description.contains("another application"))
        #expect(try sqlite3(path, "SELECT name FROM sqlite_master;").output == "notes")
    }

    @Test("a file migrated by a newer devsys is refused, naming the unknown migration")
    func newerSchemaIsRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Store(path: folder.databaseURL).close()
        #expect(try sqlite3(folder.databaseURL, "INSERT INTO grdb_migrations VALUES ('v99');").status == 0)

        #expect(throws: StoreError.schemaTooNew(path: folder.databaseURL.path, unknownMigrations: ["v99"])) {
            try Store(path: folder.databaseURL)
        }
    }

    @Test("a folder in place of the file is refused with a clear error")
    func folderInPlaceOfFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try FileManager.default.createDirectory(at: folder.databaseURL, withIntermediateDirectories: true)
        let error = try #require(throws: StoreError.self) { try Store(path: folder.databaseURL) }
        #expect(error.description.contains(folder.databaseURL.path))
    }
}

@Suite("Sharing the file with other processes")
struct LockingTests {
    @Test("a write waits for another process's transaction; past the busy timeout it fails naming the file")
    func writeWaitsForOtherProcess() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let patient = try Store(path: folder.databaseURL, busyTimeout: 10)
        let hasty = try Store(path: folder.databaseURL, busyTimeout: 0.05)

        // Another process (the sqlite3 CLI) takes the write lock and holds it until the test says go.
        let go = folder.url.appendingPathComponent("go").path
        let waitForGo = folder.url.appendingPathComponent("wait-for-go.sh")
        try Data("i=0; while [ ! -e '\(go)' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n".utf8).write(to: waitForGo)
        // .timeout: without it the CLI gives up at once when one of our writes holds the lock.
        let holder = try ChildProcess(
            "/usr/bin/sqlite3",
            [folder.databaseURL.path, ".timeout 5000", "BEGIN IMMEDIATE;", ".shell sh \(waitForGo.path)", "COMMIT;"],
            output: .captured
        )
        defer {
            FileManager.default.createFile(atPath: go, contents: nil)
            holder.wait()
        }

        // Until the lock is taken, the hasty store's writes still go through; then they fail.
        var refusal: StoreError?
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(60)
        while refusal == nil && clock.now < giveUp && !holder.hasExited {
            do {
                try hasty.setValue("x", forKey: "probe")
            } catch let error as StoreError {
                refusal = error
            }
        }
        let error = try #require(refusal, "sqlite3 never took the lock: \(holder.hasExited ? holder.wait().stderr : "still running")")
        guard case .database(let path, let operation, let message) = error else {
            Issue.record("expected a database error, got \(error)")
            return
        }
        #expect(path == folder.databaseURL.path)
        #expect(operation == "store probe")
        #expect(message.contains("locked"))

        // The patient store waits for the other process's commit, then writes: its write returns
        // only after the lock was let go, however slow the machine.
        let released = LockedBox<ContinuousClock.Instant?>(nil)
        let releaser = Thread {
            usleep(300_000)
            released.withValue { $0 = clock.now }
            FileManager.default.createFile(atPath: go, contents: nil)
        }
        releaser.start()
        try patient.setValue("y", forKey: "probe")
        let written = clock.now
        let letGo = try #require(released.withValue { $0 })
        #expect(written > letGo)
        #expect(try hasty.value(forKey: "probe") == "y")
    }
}
