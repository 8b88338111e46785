import Foundation
import Store

/// Job state transitions on the durable queue: each job is enqueued, leased and completed, one
/// transaction each (3 transitions per job), on a WAL file with synchronous=NORMAL. devsys goes
/// through `Store` (GRDB); the alternative is what a user would script instead: Python's `sqlite3`
/// module running the same statements on the same schema, timed inside Python so that starting the
/// interpreter is not counted.
struct QueueBenchmark: Benchmark {
    let name = "queue"
    var jobs = 2_000

    var quick: Self { Self(jobs: 200) }

    func run(runs: Int, scratch: URL) throws -> [Comparison] {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let runs = max(1, runs)

        // Databases are created and migrated before the clock starts: only queue work is timed.
        var stores = try (0..<runs).map { run in try Store(path: scratch.appendingPathComponent("devsys-\(run).sqlite")) }
        var lastStore: Store?
        let devsys = try medianSeconds(runs: runs) {
            let store = stores.removeFirst()
            try runQueue(on: store)
            lastStore = store
        }
        if let lastStore { try verify(lastStore) }

        // Python gets empty databases with exactly devsys's schema and indexes.
        let pythonFiles = try (0..<runs).map { run in
            let path = scratch.appendingPathComponent("python-\(run).sqlite")
            try Store(path: path).close()
            return path.path
        }
        let script = scratch.appendingPathComponent("queue.py")
        try Data(Self.pythonScript.utf8).write(to: script)
        let output = try runTool(["python3", script.path, String(jobs)] + pythonFiles)
        let samples = String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }.sorted()
        guard samples.count == runs else {
            throw BenchmarkError("queue.py printed \(samples.count) timings for \(runs) runs: \(String(decoding: output, as: UTF8.self))")
        }
        let python = runs % 2 == 1 ? samples[runs / 2] : (samples[runs / 2 - 1] + samples[runs / 2]) / 2

        let transitions = jobs * 3
        let rate = Double(transitions) / devsys
        return [
            Comparison(
                name: "job enqueue → lease → complete (\(jobs) jobs, 1 transaction per transition, WAL, synchronous=NORMAL)",
                unit: "transition",
                operations: transitions,
                devsys: devsys,
                alternative: "python3 sqlite3 module, same SQL",
                alternativeSeconds: python,
                goal: "≥ 2,000 transition/s",
                met: rate >= 2_000
            )
        ]
    }

    /// Enqueues every job, then one worker leases and completes them, as the agents' loop does.
    private func runQueue(on store: Store) throws {
        let payload = Data(#"{"prompt":"bench"}"#.utf8)
        for index in 0..<jobs {
            try store.enqueue(JobKey(taskID: "task-\(index)", step: .testing, inputCommit: "c0ffee"), payload: payload, maxAttempts: 3)
        }
        while let job = try store.lease(worker: "bench", for: 300) {
            try store.complete(jobID: job.id, worker: "bench", result: Data(#"{"ok":true}"#.utf8))
        }
    }

    /// The figures count only if every job ended done, leased exactly once.
    private func verify(_ store: Store) throws {
        for index in [0, jobs / 2, jobs - 1] {
            let job = try store.job(key: JobKey(taskID: "task-\(index)", step: .testing, inputCommit: "c0ffee"))
            guard job?.state == .done, job?.attempts == 1 else {
                throw BenchmarkError("\(store.path.path): job task-\(index) is \(String(describing: job?.state)), not done once")
            }
        }
        guard try store.nextDueDate() == nil else { throw BenchmarkError("\(store.path.path): jobs left open") }
    }

    /// The same three transactions per job as `Store.enqueue`, `lease` and `complete` (lease includes
    /// the sweep of expired last-attempt leases), with the same pragmas.
    static let pythonScript = #"""
        import sqlite3, sys, time

        def ms():
            return int(time.time() * 1000)

        ENQUEUE = """INSERT INTO job (task_id, step, input_commit, payload, state, attempts, max_attempts,
                                      backoff_base, backoff_max, backoff_jitter, not_before, created_at, updated_at)
                     VALUES (?, 'testing', 'c0ffee', ?, 'pending', 0, 3, 5, 600, 0.2, ?, ?, ?)
                     ON CONFLICT (task_id, step, input_commit) DO NOTHING RETURNING *"""
        SWEEP = """UPDATE job SET state = 'dead', lease_expires = NULL, updated_at = :now,
                       last_error = 'the lease of ' || lease_owner || ' expired during its last attempt'
                   WHERE state = 'leased' AND lease_expires <= :now AND attempts >= max_attempts
                   RETURNING id, task_id, step, input_commit, last_error"""
        LEASE = """UPDATE job SET state = 'leased', attempts = attempts + 1, lease_owner = :worker,
                       lease_expires = :expires, updated_at = :now
                   WHERE id = (SELECT id FROM (
                       SELECT * FROM (SELECT id, not_before FROM job WHERE state = 'pending' AND not_before <= :now
                                      ORDER BY not_before, id LIMIT 1)
                       UNION ALL
                       SELECT * FROM (SELECT id, not_before FROM job WHERE state = 'leased' AND lease_expires <= :now
                                      ORDER BY not_before, id LIMIT 1))
                     ORDER BY not_before, id LIMIT 1)
                   RETURNING *"""
        COMPLETE = """UPDATE job SET state = 'done', result = ?, lease_expires = NULL, updated_at = ?
                      WHERE id = ? AND state = 'leased' AND lease_owner = ?"""

        def run(path, jobs):
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA busy_timeout = 10000")
            payload = b'{"prompt":"bench"}'
            start = time.perf_counter()
            for index in range(jobs):
                now = ms()
                db.execute("BEGIN IMMEDIATE")
                db.execute(ENQUEUE, ("task-%d" % index, payload, now, now, now)).fetchall()
                db.execute("COMMIT")
            while True:
                now = ms()
                db.execute("BEGIN IMMEDIATE")
                db.execute(SWEEP, {"now": now}).fetchall()
                job = db.execute(LEASE, {"now": now, "worker": "bench", "expires": now + 300000}).fetchone()
                db.execute("COMMIT")
                if job is None:
                    break
                db.execute("BEGIN IMMEDIATE")
                done = db.execute(COMPLETE, (b'{"ok":true}', ms(), job[0], "bench")).rowcount
                db.execute("COMMIT")
                assert done == 1
            elapsed = time.perf_counter() - start
            count = db.execute("SELECT count(*) FROM job WHERE state = 'done' AND attempts = 1").fetchone()[0]
            assert count == jobs, (count, jobs)
            db.close()
            return elapsed

        jobs = int(sys.argv[1])
        for path in sys.argv[2:]:
            print(run(path, jobs))
        """#
}
