import Foundation
import Specs
import Store
import Testing

@Suite("Events, audit log and reconciler metadata")
struct HistoryTests {
    @Test("events come back in the order they were appended, newest last, the latest `limit` of them")
    func eventOrdering() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        // Clocks go backwards sometimes; the order is the order of appending.
        try store.appendEvent(taskID: "1", kind: .taskCreated, message: "first", at: t0.addingTimeInterval(30))
        try store.appendEvent(
            taskID: nil,
            kind: .controllerReclaimed,
            message: "trunk at abc",
            data: ["commit": "abc"],
            at: t0.addingTimeInterval(20)
        )
        try store.appendEvent(taskID: "1", kind: .taskState, message: "second", at: t0.addingTimeInterval(10))
        try store.appendEvent(taskID: "1", kind: .testsPassed, message: "third", at: t0)

        #expect(try store.events().map(\.message) == ["first", "trunk at abc", "second", "third"])
        #expect(try store.events(taskID: "1").map(\.kind) == ["task.created", "task.state", "tests.passed"])
        #expect(try store.events(taskID: "1", limit: 2).map(\.kind) == ["task.state", "tests.passed"])
        let global = try #require(try store.events().first { $0.taskID == nil })
        #expect(global.data == ["commit": "abc"])
        #expect(global.at == t0.addingTimeInterval(20))
    }

    @Test("the audit log pages newest first, and the database refuses to change or delete an entry")
    func auditIsAppendOnly() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        try store.appendAudit(actor: "ci", role: "developer", action: "task.new", target: "42", outcome: "ok", at: t0)
        try store.appendAudit(
            actor: "ci",
            role: "developer",
            action: "deploy",
            target: "env/production",
            outcome: "denied",
            at: t0.addingTimeInterval(1)
        )
        let last = try store.appendAudit(
            actor: "ops",
            role: "deployer",
            action: "deploy",
            target: "env/production",
            outcome: "ok",
            at: t0.addingTimeInterval(2)
        )

        let newest = try store.audit(Store.AuditFilter(limit: 2))
        #expect(newest.map(\.outcome) == ["ok", "denied"])
        #expect(try store.audit(Store.AuditFilter(limit: 2, before: newest.last?.id)).map(\.action) == ["task.new"])
        #expect(try store.audit(Store.AuditFilter(actor: "ops", action: "deploy")) == [last])
        #expect(try store.audit(Store.AuditFilter(target: "env/")).map(\.outcome) == ["ok", "denied"])
        #expect(try store.audit(Store.AuditFilter(since: t0.addingTimeInterval(1.5))) == [last])
        #expect(try store.audit().first == last)
        #expect(last.at == t0.addingTimeInterval(2))

        // Someone with the sqlite3 CLI tries to cover their tracks.
        let update = try sqlite3(folder.databaseURL, "UPDATE audit SET outcome = 'ok' WHERE outcome = 'denied';")
        #expect(update.status != 0)
        #expect(update.error.contains("append-only"))
        let delete = try sqlite3(folder.databaseURL, "DELETE FROM audit;")
        #expect(delete.status != 0)
        #expect(try store.audit().map(\.outcome) == ["ok", "denied", "ok"])
        try store.appendEvent(taskID: nil, kind: .jobRetry, message: "token ci created")
        #expect(try sqlite3(folder.databaseURL, "DELETE FROM event;").status != 0)
        #expect(try sqlite3(folder.databaseURL, "UPDATE event SET message = '';").status != 0)
        #expect(try store.events().map(\.message) == ["token ci created"])
    }

    @Test("metadata compare-and-swap: only the reconciler that saw the current value advances it")
    func metadataCompareAndSwap() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        #expect(try store.value(forKey: "reconciled-trunk") == nil)
        #expect(try store.setValue("c1", forKey: "reconciled-trunk", expecting: nil))
        #expect(try store.setValue("c2", forKey: "reconciled-trunk", expecting: nil) == false)
        #expect(try store.setValue("c2", forKey: "reconciled-trunk", expecting: "c0") == false)
        #expect(try store.value(forKey: "reconciled-trunk") == "c1")
        #expect(try store.setValue("c2", forKey: "reconciled-trunk", expecting: "c1"))
        #expect(try store.value(forKey: "reconciled-trunk") == "c2")
        try store.setValue(nil, forKey: "reconciled-trunk")
        #expect(try store.value(forKey: "reconciled-trunk") == nil)
    }
}
