import NIOPosix

/// Where blocking work runs: libgit2, SQLite (GRDB's synchronous API), files, libssh2 and HTTP
/// verification all block their thread, and the cooperative pool has one thread per core — two
/// here. Holding one of those in a C call stalls every other task of the process, so each such
/// call is handed to this pool of ordinary threads, created once.
///
/// The pool is sized for the controller's lanes (coding, testing, merge, deploys, reconcile, drift,
/// the heartbeat) with room to spare: a lane waiting for a thread would be a lane that waits on
/// another.
public struct BlockingPool: Sendable {
    private let threads: NIOThreadPool

    /// The process's pool.
    public static let shared: BlockingPool = {
        let threads = NIOThreadPool(numberOfThreads: 32)
        threads.start()
        return BlockingPool(threads: threads)
    }()

    /// Runs `body` on a pool thread and returns (or throws) what it did. Cancelling the caller does
    /// not interrupt `body`: blocking C calls cannot be interrupted; callers check for
    /// cancellation around it.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await threads.runIfActive(body)
    }
}

/// Runs blocking work on ``BlockingPool/shared``.
public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await BlockingPool.shared.run(body)
}
