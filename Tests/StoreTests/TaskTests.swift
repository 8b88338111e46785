import Foundation
import Store
import Testing

@Suite("Tasks and their states")
struct TaskTests {
    @Test("terminal states are the four end states of the lifecycle")
    func terminalStates() {
        #expect(TaskState.allCases.filter(\.isTerminal) == [.deployed, .failed, .rejected, .cancelled])
    }

    @Test("upsert inserts a task once, then updates it and keeps its creation date")
    func upsertKeepsCreationDate() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)

        #expect(try store.upsertTask(sampleTask("7")))
        var changed = sampleTask("7", at: t0.addingTimeInterval(60))
        changed.title = "Renamed"
        changed.specBlob = String(repeating: "c", count: 40)
        changed.branchHead = String(repeating: "d", count: 40)
        #expect(try store.upsertTask(changed) == false)

        let stored = try #require(try store.task(id: "7"))
        #expect(stored.title == "Renamed")
        #expect(stored.specBlob == changed.specBlob)
        #expect(stored.branchHead == changed.branchHead)
        #expect(stored.createdAt == t0)
        #expect(stored.updatedAt == t0.addingTimeInterval(60))
        #expect(try store.events(taskID: "7").map(\.kind) == ["task.created"])
        #expect(try store.task(id: "8") == nil)
    }

    @Test("a transition from the expected state moves the task and records an event")
    func transitionMovesTask() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        try store.upsertTask(sampleTask("1"))

        #expect(try store.transition(taskID: "1", from: [.queued], to: .coding, reason: nil, attempt: 1, at: t0.addingTimeInterval(5)))
        let task = try #require(try store.task(id: "1"))
        #expect(task.state == .coding)
        #expect(task.attempt == 1)
        #expect(task.updatedAt == t0.addingTimeInterval(5))
        let event = try #require(try store.events(taskID: "1").last)
        #expect(event.kind == "task.state")
        #expect(event.data == ["from": "queued", "to": "coding", "attempt": "1"])
        #expect(event.at == t0.addingTimeInterval(5))
    }

    @Test("a transition from a stale state returns false and changes nothing, not even the history")
    func staleTransitionIsRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        try store.upsertTask(sampleTask("1"))
        try store.transition(taskID: "1", from: [.queued], to: .coding, reason: nil)
        let before = try store.events(taskID: "1")

        // A second reconciler still believes the task is queued.
        #expect(try store.transition(taskID: "1", from: [.queued], to: .cancelled, reason: "spec deleted") == false)
        #expect(try store.task(id: "1")?.state == .coding)
        #expect(try store.task(id: "1")?.reason == nil)
        #expect(try store.events(taskID: "1") == before)

        #expect(throws: StoreError.taskNotFound(id: "404")) {
            try store.transition(taskID: "404", from: [.queued], to: .coding, reason: nil)
        }
    }

    @Test("a failed task keeps its reason; tasks can be listed by state")
    func listByState() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        for id in ["a", "b", "c"] { try store.upsertTask(sampleTask(id)) }
        try store.transition(taskID: "b", from: [.queued], to: .coding, reason: nil)
        try store.transition(taskID: "c", from: [.queued], to: .failed, reason: "tests failed 3 times")

        #expect(try store.tasks().map(\.id) == ["a", "b", "c"])
        #expect(try store.tasks(states: [.queued, .coding]).map(\.id) == ["a", "b"])
        #expect(try store.tasks(states: [.failed]).first?.reason == "tests failed 3 times")
        #expect(try store.tasks(states: []).isEmpty)
    }

    @Test("reindex deletes the tasks but keeps jobs and history")
    func deleteAllTasksKeepsHistory() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        try store.upsertTask(sampleTask("1"))
        try store.upsertTask(sampleTask("2"))
        try store.enqueue(key("1"), maxAttempts: 1)

        #expect(try store.deleteAllTasks() == 2)
        #expect(try store.tasks().isEmpty)
        #expect(try store.jobs(taskID: "1").count == 1)
        #expect(try store.events().count == 2)
    }

    @Test("a transition and the next job's enqueue commit together, or not at all")
    func transactionIsAtomic() throws {
        struct Crash: Error {}
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        try store.upsertTask(sampleTask("1"))

        #expect(throws: Crash.self) {
            try store.transaction { transaction in
                try transaction.transition(taskID: "1", from: [.queued], to: .coding, reason: nil)
                try transaction.enqueue(key("1", .coding), maxAttempts: 3)
                throw Crash()
            }
        }
        #expect(try store.task(id: "1")?.state == .queued)
        #expect(try store.jobs(taskID: "1").isEmpty)
        #expect(try store.events(taskID: "1").map(\.kind) == ["task.created"])

        let job = try store.transaction { transaction in
            try transaction.transition(taskID: "1", from: [.queued], to: .coding, reason: nil)
            return try transaction.enqueue(key("1", .coding), maxAttempts: 3).job
        }
        #expect(try store.task(id: "1")?.state == .coding)
        #expect(try store.jobs(taskID: "1") == [job])
    }
}
