import ArgumentParser
import Foundation
import Pipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Devsys {
    struct Reindex: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the task table from git alone.",
            discussion: """
                Reads every spec on the trunk, the task/<id> branches and the notes on their heads
                (test reports, review verdicts) and derives each task's state from them, replacing
                what the store held; the jobs those states wait for are queued again. Use it after
                losing or restoring the store, or when it disagrees with git.

                  devsys reindex
                  devsys reindex --json

                Stop the controller first ('devsys serve'): reindex refuses to run beside one.
                A coding attempt that failed without committing leaves nothing in git: such a
                task comes back queued or coding, and runs again.
                """
        )

        @OptionGroup var options: ControllerOptions

        @Flag(help: "Print the derived tasks as JSON.")
        var json = false

        func run() throws {
            let (control, state, store) = try options.openStore(creatingState: true)
            let lock = try ControllerLockFile(state.controllerLock)
            defer { lock.release() }
            let tasks = try Reindexer(repositoryPath: options.repositoryPath(of: control), store: store, state: state).reindex()
            if json { return try printJSON(tasks.map(TaskOutput.init)) }
            let trunk = try control.trunkCommit()
            print("\(tasks.count) task\(tasks.count == 1 ? "" : "s") read from git at \(trunk.branch) \(shortHex(trunk.commit.hex))")
            if !tasks.isEmpty { print(TaskTable(tasks).text, terminator: "") }
        }
    }
}

/// Holds the controller lock of a state folder while a command rewrites what a controller works
/// from, so the two never run together.
struct ControllerLockFile {
    private let descriptor: Int32

    init(_ url: URL) throws {
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CommandFailure("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw CommandFailure(
                "a devsys controller is running on \(url.deletingLastPathComponent().path); stop it first, then run reindex again"
            )
        }
    }

    func release() {
        close(descriptor)
    }
}
