import Foundation
import Store
import Testing

@Suite("The durable job queue")
struct JobQueueTests {
    @Test("enqueuing the same key twice gives the same job, whatever its state")
    func enqueueIsIdempotent() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)

        let first = try store.enqueue(key("1"), payload: Data("{}".utf8), maxAttempts: 3, notBefore: t0, now: t0)
        #expect(first.created)
        #expect(first.job.state == .pending)
        #expect(first.job.attempts == 0)

        let again = try store.enqueue(key("1"), payload: Data(#"{"other":true}"#.utf8), maxAttempts: 9, now: t0)
        #expect(again.created == false)
        #expect(again.job == first.job)

        // After completion, a reconciler resuming from a crash enqueues again: still the same, done job.
        let leased = try #require(try store.lease(worker: "w", for: 60, now: t0))
        try store.complete(jobID: leased.id, worker: "w", result: Data(#"{"ok":1}"#.utf8), now: t0)
        let afterDone = try store.enqueue(key("1"), maxAttempts: 3, now: t0)
        #expect(afterDone.created == false)
        #expect(afterDone.job.state == .done)
        #expect(afterDone.job.result == Data(#"{"ok":1}"#.utf8))

        // A different input commit is different work.
        #expect(try store.enqueue(key("1", .coding, "beef"), maxAttempts: 3).created)
        #expect(try store.jobs(taskID: "1").count == 2)
    }

    @Test("leases go to the oldest due job by notBefore, then by id; future jobs wait")
    func leaseOrder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        let later = try store.enqueue(key("later"), maxAttempts: 1, notBefore: t0.addingTimeInterval(5)).job
        let firstOfTwo = try store.enqueue(key("first"), maxAttempts: 1, notBefore: t0).job
        let secondOfTwo = try store.enqueue(key("second"), maxAttempts: 1, notBefore: t0).job
        let future = try store.enqueue(key("future"), maxAttempts: 1, notBefore: t0.addingTimeInterval(100)).job

        let now = t0.addingTimeInterval(10)
        var order: [Int64] = []
        while let job = try store.lease(worker: "w", for: 3600, now: now) {
            #expect(job.state == .leased)
            #expect(job.attempts == 1)
            #expect(job.leaseOwner == "w")
            #expect(job.leaseExpires == now.addingTimeInterval(3600))
            order.append(job.id)
        }
        #expect(order == [firstOfTwo.id, secondOfTwo.id, later.id])
        #expect(try store.nextDueDate() == future.notBefore)
        #expect(try store.lease(worker: "w", for: 60, now: future.notBefore)?.id == future.id)
    }

    @Test("a worker leases only the steps it asks for")
    func leaseByStep() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        try store.enqueue(key("1", .coding), maxAttempts: 1, notBefore: t0)
        let deploy = try store.enqueue(key("1", .deploy), maxAttempts: 1, notBefore: t0.addingTimeInterval(1)).job

        #expect(try store.nextDueDate(steps: [.deploy, .monitor]) == deploy.notBefore)
        #expect(try store.lease(worker: "deployer", steps: [.deploy, .monitor], for: 60, now: t0.addingTimeInterval(2))?.id == deploy.id)
        #expect(try store.lease(worker: "deployer", steps: [.deploy, .monitor], for: 60, now: t0.addingTimeInterval(2)) == nil)
        #expect(try store.lease(worker: "coder", steps: [.coding], for: 60, now: t0.addingTimeInterval(2))?.key.step == .coding)
    }

    @Test("a crashed worker's job is not leased again until its lease expires, then it is, as a new attempt")
    func expiredLeaseIsTakenOver() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        let enqueued = try store.enqueue(key("1"), maxAttempts: 3, notBefore: t0).job

        let first = try #require(try store.lease(worker: "crashed", for: 30, now: t0))
        #expect(try store.lease(worker: "survivor", for: 30, now: t0.addingTimeInterval(29)) == nil)
        #expect(try store.nextDueDate() == t0.addingTimeInterval(30))

        let second = try #require(try store.lease(worker: "survivor", for: 30, now: t0.addingTimeInterval(30)))
        #expect(second.id == enqueued.id && first.id == enqueued.id)
        #expect(second.attempts == 2)
        #expect(second.leaseOwner == "survivor")

        // The first worker wakes up: it no longer holds the job, so it can neither complete nor renew it.
        #expect(throws: StoreError.leaseLost(jobID: enqueued.id, worker: "crashed", holder: "survivor", state: .leased)) {
            try store.complete(jobID: enqueued.id, worker: "crashed", result: nil, now: t0.addingTimeInterval(31))
        }
        #expect(throws: StoreError.self) { try store.renew(jobID: enqueued.id, worker: "crashed", for: 30) }
        #expect(throws: StoreError.self) { try store.fail(jobID: enqueued.id, worker: "crashed", error: "x", retryable: true) }

        try store.complete(jobID: enqueued.id, worker: "survivor", result: nil, now: t0.addingTimeInterval(32))
        let done = try #require(try store.job(id: enqueued.id))
        #expect(done.state == .done)
        #expect(done.leaseOwner == "survivor")
        #expect(try store.nextDueDate() == nil)

        #expect(throws: StoreError.leaseLost(jobID: enqueued.id, worker: "survivor", holder: nil, state: .done)) {
            try store.complete(jobID: enqueued.id, worker: "survivor", result: nil)
        }
        #expect(throws: StoreError.jobNotFound(id: 999)) { try store.complete(jobID: 999, worker: "survivor", result: nil) }
    }

    @Test("renewing a lease keeps the job from other workers past the first expiry")
    func renewExtendsLease() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        try store.enqueue(key("1"), maxAttempts: 3, notBefore: t0)
        let job = try #require(try store.lease(worker: "slow", for: 30, now: t0))

        let renewed = try store.renew(jobID: job.id, worker: "slow", for: 30, now: t0.addingTimeInterval(20))
        #expect(renewed.leaseExpires == t0.addingTimeInterval(50))
        #expect(try store.lease(worker: "other", for: 30, now: t0.addingTimeInterval(40)) == nil)
        try store.complete(jobID: job.id, worker: "slow", now: t0.addingTimeInterval(45))
    }

    @Test("retryable failures back off exponentially with jitter, then the job is dead-lettered with its error")
    func retryWithBackoffThenDeadLetter() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // Jitter draws: 0.75 → +25 % of a ±50 % jitter, 0.0 → −50 %.
        let store = try Store(path: folder.databaseURL, random: sequenceRandom([0.75, 0.0]))
        let backoff = RetryBackoff(base: 2, max: 60, jitter: 0.5)
        let id = try store.enqueue(key("1", .testing), maxAttempts: 3, backoff: backoff, notBefore: t0).job.id

        _ = try #require(try store.lease(worker: "w", for: 60, now: t0))
        let afterFirst = try store.fail(jobID: id, worker: "w", error: "phpunit: 2 failures", retryable: true, now: t0.addingTimeInterval(1))
        #expect(afterFirst.state == .pending)
        #expect(afterFirst.leaseOwner == nil)
        #expect(afterFirst.lastError == "phpunit: 2 failures")
        #expect(afterFirst.notBefore == t0.addingTimeInterval(1 + 2.5))  // 2 s × 1.25
        #expect(try store.lease(worker: "w", for: 60, now: t0.addingTimeInterval(3.499)) == nil)

        _ = try #require(try store.lease(worker: "w", for: 60, now: t0.addingTimeInterval(3.5)))
        let afterSecond = try store.fail(jobID: id, worker: "w", error: "phpunit: 1 failure", retryable: true, now: t0.addingTimeInterval(10))
        #expect(afterSecond.state == .pending)
        #expect(afterSecond.notBefore == t0.addingTimeInterval(10 + 2))  // 4 s × 0.5

        let third = try #require(try store.lease(worker: "w", for: 60, now: t0.addingTimeInterval(12)))
        #expect(third.attempts == 3)
        let dead = try store.fail(jobID: id, worker: "w", error: "phpunit: 1 failure (again)", retryable: true, now: t0.addingTimeInterval(20))
        #expect(dead.state == .dead)
        #expect(dead.lastError == "phpunit: 1 failure (again)")
        #expect(try store.deadJobs().map(\.id) == [id])
        #expect(try store.lease(worker: "w", for: 60, now: t0.addingTimeInterval(1000)) == nil)
        #expect(try store.nextDueDate() == nil)

        // Every failure's error stays in the task's history, though the job keeps only the last.
        let history = try store.events(taskID: "1")
        #expect(history.map(\.kind) == ["job.retry", "job.retry", "job.dead"])
        #expect(history.map { $0.data["error"] } == ["phpunit: 2 failures", "phpunit: 1 failure", "phpunit: 1 failure (again)"])

        // A user's retry gives the dead job a fresh set of attempts.
        let requeued = try store.requeueDeadJob(id: id, now: t0.addingTimeInterval(30))
        #expect(requeued.state == .pending && requeued.attempts == 0)
        #expect(try store.lease(worker: "w", for: 60, now: t0.addingTimeInterval(30))?.id == id)
        #expect(throws: StoreError.jobNotDead(id: id, state: .leased)) { try store.requeueDeadJob(id: id) }
    }

    @Test("a failure that is not retryable dead-letters the job at once")
    func nonRetryableFailure() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        let id = try store.enqueue(key("1", .deploy), maxAttempts: 5, notBefore: t0).job.id
        _ = try store.lease(worker: "w", for: 60, now: t0)
        let dead = try store.fail(jobID: id, worker: "w", error: "host key mismatch for web1", retryable: false, now: t0)
        #expect(dead.state == .dead)
        #expect(dead.attempts == 1)
        #expect(dead.lastError == "host key mismatch for web1")
    }

    @Test("a lease that expires during the last attempt dead-letters the job instead of looping")
    func expiredLastAttemptIsDeadLettered() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        let id = try store.enqueue(key("1"), maxAttempts: 1, notBefore: t0).job.id
        _ = try store.lease(worker: "crashed", for: 10, now: t0)

        #expect(try store.lease(worker: "other", for: 10, now: t0.addingTimeInterval(11)) == nil)
        let dead = try #require(try store.job(id: id))
        #expect(dead.state == .dead)
        #expect(dead.lastError?.contains("crashed") == true)
        #expect(try store.events(taskID: "1").last?.kind == "job.dead")
    }

    @Test("the backoff doubles from its base up to its maximum, jitter spreading it both ways")
    func backoffDelays() {
        let backoff = RetryBackoff(base: 5, max: 60, jitter: 0.2)
        #expect((1...6).map { backoff.delay(afterAttempt: $0, unit: 0.5) } == [5, 10, 20, 40, 60, 60])
        #expect(backoff.delay(afterAttempt: 1, unit: 0) == 4)
        #expect(backoff.delay(afterAttempt: 1, unit: 1) == 6)
        #expect(backoff.delay(afterAttempt: 1000, unit: 0.5) == 60)
    }

    @Test("two stores on one file, leasing from two threads, complete each of 200 jobs exactly once")
    func concurrentWorkersNeverShareAJob() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let setup = try Store(path: folder.databaseURL)
        var all: Set<Int64> = []
        for n in 0..<200 {
            all.insert(try setup.enqueue(key("task-\(n)", .testing), maxAttempts: 1, notBefore: t0).job.id)
        }
        // Two stores, as two processes would have: separate connections, SQLite's locks in between.
        let stores = [try Store(path: folder.databaseURL), try Store(path: folder.databaseURL)]
        let completed = LockedBox<[[Int64]]>([[], []])
        let failures = LockedBox<[String]>([])
        let started = LockedBox(0)
        let holdingFirstJob = LockedBox(0)

        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            // Start together, and hold each job a moment as real work would, so that leases interleave.
            started.withValue { $0 += 1 }
            while started.withValue({ $0 }) < 2 { usleep(50) }
            var mine: [Int64] = []
            do {
                while let job = try stores[worker].lease(worker: "worker-\(worker)", for: 300) {
                    if mine.isEmpty {
                        // Hold the first job until the other worker holds one too: however the
                        // threads are scheduled, each takes part (the bound is for a hang only).
                        holdingFirstJob.withValue { $0 += 1 }
                        let clock = ContinuousClock()
                        let giveUp = clock.now + .seconds(60)
                        while holdingFirstJob.withValue({ $0 }) < 2 && clock.now < giveUp { usleep(50) }
                    }
                    usleep(200)
                    try stores[worker].complete(jobID: job.id, worker: "worker-\(worker)", result: Data("\(worker)".utf8))
                    mine.append(job.id)
                }
            } catch {
                failures.withValue { $0.append("worker \(worker): \(error)") }
            }
            completed.withValue { $0[worker] = mine }
        }

        #expect(failures.withValue { $0 } == [])
        let lists = completed.withValue { $0 }
        #expect(lists[0].count + lists[1].count == 200)
        #expect(Set(lists[0] + lists[1]) == all)
        #expect(Set(lists[0]).isDisjoint(with: lists[1]))
        #expect(!lists[0].isEmpty && !lists[1].isEmpty, "both workers took jobs: \(lists[0].count) and \(lists[1].count)")
        for n in [0, 99, 199] {
            let job = try #require(try setup.job(key: key("task-\(n)", .testing)))
            #expect(job.state == .done && job.attempts == 1)
            #expect(job.result == Data((job.leaseOwner == "worker-0" ? "0" : "1").utf8))
        }
        #expect(try setup.nextDueDate() == nil)
    }
}

@Suite("A pipeline step, end to end")
struct PipelineStepTests {
    @Test("coding completes, the task moves to testing and the testing job is enqueued, in one transaction")
    func completeTransitionEnqueue() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = try Store(path: folder.databaseURL)
        try store.upsertTask(sampleTask("42", state: .coding))
        try store.enqueue(key("42", .coding, "spec1"), maxAttempts: 3, notBefore: t0)
        let coding = try #require(try store.lease(worker: "coder", steps: [.coding], for: 600, now: t0))

        let branchHead = String(repeating: "e", count: 40)
        let testing = try store.transaction { transaction in
            try transaction.complete(jobID: coding.id, worker: "coder", result: Data(#"{"head":"\#(branchHead)"}"#.utf8), now: t0)
            guard try transaction.transition(taskID: "42", from: [.coding], to: .testing, reason: nil, at: t0) else {
                throw StoreError.taskNotFound(id: "42")
            }
            return try transaction.enqueue(key("42", .testing, branchHead), maxAttempts: 2, notBefore: t0, now: t0).job
        }

        #expect(try store.job(id: coding.id)?.state == .done)
        #expect(try store.task(id: "42")?.state == .testing)
        #expect(try store.lease(worker: "tester", steps: [.testing], for: 600, now: t0)?.id == testing.id)
        #expect(try store.jobs(taskID: "42").map(\.key.step) == [.coding, .testing])
    }
}
