import Actions
import ArgumentParser
import Foundation
import Pipeline

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
            guard let lock = try ControllerLock.take(state) else {
                throw CommandFailure("a devsys controller is running on \(state.url.path); stop it first, then run reindex again")
            }
            defer { withExtendedLifetime(lock) {} }
            let tasks = try Reindexer(repositoryPath: options.repositoryPath(of: control), store: store, state: state).reindex()
            if json { return try printJSON(tasks.map(TaskSummary.init)) }
            let trunk = try control.trunkCommit()
            print("\(tasks.count) task\(tasks.count == 1 ? "" : "s") read from git at \(trunk.branch) \(shortHex(trunk.commit.hex))")
            if !tasks.isEmpty { print(TaskTable(tasks.map(TaskSummary.init)).text, terminator: "") }
        }
    }
}
