import GRDB

/// The state database's schema, as an ordered list of named migrations. A migration, once shipped,
/// never changes: a new column or table is a new migration ("v2", …).
enum Schema {
    /// Written into the SQLite header (`PRAGMA application_id`, "dvsy") so that devsys recognises its
    /// own file and refuses to migrate some other application's database.
    static let applicationID: Int32 = 0x6476_7379

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: v2)
        }
        return migrator
    }

    /// The sandboxes agent steps run in, recorded with the lease of their job: a controller that
    /// takes the job over ends what they left running before it starts again.
    private static let v2 = """
        CREATE TABLE job_sandbox (
            name TEXT PRIMARY KEY NOT NULL,
            job_id INTEGER NOT NULL REFERENCES job(id),
            worker TEXT NOT NULL,
            started_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX job_sandbox_by_job ON job_sandbox(job_id);
        """

    // Column names are snake_case so the file reads naturally in the sqlite3 CLI. Dates are whole
    // milliseconds since 1970. History tables (event, audit) refuse UPDATE and DELETE.
    private static let v1 = """
        CREATE TABLE task (
            id TEXT PRIMARY KEY NOT NULL,
            state TEXT NOT NULL CHECK (state IN (\(quotedList(TaskState.allCases.map(\.rawValue))))),
            app TEXT NOT NULL,
            title TEXT NOT NULL,
            spec_commit TEXT NOT NULL,
            spec_blob TEXT NOT NULL,
            branch_head TEXT,
            attempt INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            reason TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX task_by_state ON task(state);

        CREATE TABLE job (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            task_id TEXT NOT NULL,
            step TEXT NOT NULL CHECK (step IN (\(quotedList(JobStep.allCases.map(\.rawValue))))),
            input_commit TEXT NOT NULL,
            payload BLOB NOT NULL,
            state TEXT NOT NULL CHECK (state IN (\(quotedList(JobState.allCases.map(\.rawValue))))),
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
            backoff_base REAL NOT NULL,
            backoff_max REAL NOT NULL,
            backoff_jitter REAL NOT NULL,
            not_before INTEGER NOT NULL,
            lease_owner TEXT,
            lease_expires INTEGER,
            last_error TEXT,
            result BLOB,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (task_id, step, input_commit)
        ) STRICT;
        -- A lease takes the first due pending job, or a leased one whose lease expired: two small
        -- partial indexes, so done and dead jobs (most rows, in time) never slow a lease down.
        CREATE INDEX job_pending ON job(not_before, id) WHERE state = 'pending';
        CREATE INDEX job_leased ON job(lease_expires) WHERE state = 'leased';
        CREATE INDEX job_dead ON job(id) WHERE state = 'dead';

        CREATE TABLE event (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            task_id TEXT,
            kind TEXT NOT NULL,
            message TEXT NOT NULL,
            data TEXT NOT NULL,
            at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX event_by_task ON event(task_id, id);
        CREATE TRIGGER event_no_update BEFORE UPDATE ON event BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        CREATE TRIGGER event_no_delete BEFORE DELETE ON event BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            outcome TEXT NOT NULL,
            at INTEGER NOT NULL
        ) STRICT;
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

        CREATE TABLE metadata (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        """

    private static func quotedList(_ values: [String]) -> String {
        values.map { "'\($0)'" }.joined(separator: ", ")
    }
}
