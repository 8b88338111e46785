/// Runs test jobs with at most `parallel` at once (`agents.testing.parallel`); the others wait
/// their turn in arrival order. A job cancelled while waiting leaves the queue at once.
public actor TestPool {
    public let parallel: Int
    public let agent: TestingAgent
    private var running = 0
    private var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextID: UInt64 = 0

    public init(parallel: Int, agent: TestingAgent = TestingAgent()) {
        self.parallel = max(1, parallel)
        self.agent = agent
    }

    /// Jobs running now.
    public var runningCount: Int { running }

    /// Jobs waiting for a slot.
    public var waitingCount: Int { waiting.count }

    /// Tests one commit when a slot is free. Throws what `TestingAgent.test` throws, and
    /// `CancellationError` when cancelled while waiting.
    public func test(_ request: TestRequest) async throws -> TestReport {
        let agent = self.agent
        return try await run { try await agent.test(request) }
    }

    /// Tests several commits, at most `parallel` at once; results in the order of `requests`.
    public func testAll(_ requests: [TestRequest]) async -> [Result<TestReport, Error>] {
        await withTaskGroup(of: (Int, Result<TestReport, Error>).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask {
                    do {
                        return (index, .success(try await self.test(request)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results = [Result<TestReport, Error>?](repeating: nil, count: requests.count)
            for await (index, result) in group { results[index] = result }
            return results.map { $0 ?? .failure(CancellationError()) }
        }
    }

    /// Runs `job` when a slot is free, and frees the slot when it ends.
    public func run<T: Sendable>(_ job: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await job()
    }

    private func acquire() async throws {
        try Task.checkCancellation()
        if running < parallel {
            running += 1
            return
        }
        nextID += 1
        let id = nextID
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                waiting.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiting(id) }
        }
    }

    /// Hands the slot to the next waiting job, or frees it.
    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().continuation.resume()
        }
    }

    private func cancelWaiting(_ id: UInt64) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
