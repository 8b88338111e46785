import ArgumentParser
import Foundation
import Pipeline

extension Devsys {
    struct Notify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wake a running controller to look at git now (the post-receive hook runs this).",
            discussion: """
                Never fails and never waits: with no controller running it does nothing, and the next
                `devsys serve` or `devsys run --until-idle` catches up from git.
                """
        )

        @OptionGroup var options: ControllerOptions

        @Flag(help: "Say whether a controller was listening.")
        var verbose = false

        func run() throws {
            guard let (_, state) = try? options.locate() else { return }
            let delivered = NotifySocket.send(to: state.notifySocket)
            if verbose { print(delivered ? "controller notified" : "no controller listening") }
        }
    }
}
