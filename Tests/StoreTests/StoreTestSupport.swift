import Foundation
import Store
import TestSupport

/// A folder under the system temporary folder for one test's database files; `remove()` deletes it.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Where a test keeps its state database: in a folder that does not exist yet, as on first use.
    var databaseURL: URL { url.appendingPathComponent("state/devsys.sqlite") }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A fixed instant, a whole second, so that dates round-trip through the store exactly.
let t0 = Date(timeIntervalSince1970: 1_700_000_000)

func key(_ taskID: String, _ step: JobStep = .coding, _ commit: String = "c0ffee") -> JobKey {
    JobKey(taskID: taskID, step: step, inputCommit: commit)
}

func sampleTask(_ id: String, state: TaskState = .queued, at date: Date = t0) -> TaskRecord {
    TaskRecord(
        id: id,
        state: state,
        app: "shop",
        title: "Task \(id)",
        specCommit: String(repeating: "a", count: 40),
        specBlob: String(repeating: "b", count: 40),
        maxAttempts: 3,
        createdAt: date
    )
}

/// Runs the sqlite3 CLI on `database` with `sql`, as an operator would.
func sqlite3(_ database: URL, _ sql: String) throws -> (status: Int32, output: String, error: String) {
    let result = try ChildProcess("/usr/bin/sqlite3", [database.path, sql], output: .captured).wait()
    return (result.status, result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), result.stderr)
}

/// A random source that hands out the given numbers in turn, then repeats the last.
func sequenceRandom(_ values: [Double]) -> RandomSource {
    let box = LockedBox(values[...])
    return RandomSource {
        box.withValue { remaining in remaining.count > 1 ? remaining.removeFirst() : remaining.first ?? 0 }
    }
}

/// A value shared between threads behind a lock.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
