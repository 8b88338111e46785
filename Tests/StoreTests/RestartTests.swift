import Foundation
import Store
import Testing

@Suite("Restarting a job on purpose")
struct RestartTests {
    @Test("a done job runs again with the new payload; a pending one is left alone")
    func restartDoneJob() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        _ = try store.enqueue(key("7"), payload: Data("old".utf8), maxAttempts: 2, notBefore: t0, now: t0)
        let leased = try #require(try store.lease(worker: "w", for: 60, now: t0))
        try store.complete(jobID: leased.id, worker: "w", now: t0)

        let restarted = try store.transaction { try $0.restart(key("7"), payload: Data("new".utf8), maxAttempts: 5, now: t0) }
        #expect(restarted.id == leased.id)
        #expect(restarted.state == .pending)
        #expect(restarted.attempts == 0)
        #expect(restarted.maxAttempts == 5)
        #expect(restarted.payload == Data("new".utf8))
        #expect(try store.events(taskID: "7", limit: 10).contains { $0.kind == "job.restarted" })

        let again = try store.transaction { try $0.restart(key("7"), payload: Data("newer".utf8), maxAttempts: 9, now: t0) }
        #expect(again.payload == Data("new".utf8), "a pending job keeps what it has")
        let relet = try #require(try store.lease(worker: "w", for: 60, now: t0))
        #expect(relet.id == leased.id)
        #expect(relet.attempts == 1)
    }
}
