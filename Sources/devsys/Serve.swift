import ArgumentParser
import Foundation
import Pipeline

extension Devsys {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the controller until stopped (SIGTERM or Ctrl-C stop it gracefully).",
            discussion: """
                Reconciles the trunk and task branches into tasks and runs their jobs. A push wakes it
                at once through the post-receive hook (`devsys notify`); without the hook it polls.
                Stopping lets running jobs end as they are: their leases go back to the queue, and the
                next controller picks them up — a killed controller loses nothing either.
                """
        )

        @OptionGroup var options: ControllerOptions

        @Option(help: ArgumentHelp("Seconds between polls of git when no notification comes.", valueName: "seconds"))
        var poll: Double = 5

        func validate() throws {
            guard poll > 0 else { throw ValidationError("--poll must be positive") }
        }

        func run() async throws {
            let controller = try makeController(options)
            printProgress("serving \(controller.repositoryPath) (state \(controller.state.url.path))")
            let poll = self.poll
            let serving = Task { try await controller.serve(pollInterval: poll, progress: printProgress) }
            let signals = [SIGTERM, SIGINT].map { signalNumber in
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber)
                source.setEventHandler {
                    printProgress("stopping (signal \(signalNumber))")
                    serving.cancel()
                }
                source.resume()
                return source
            }
            defer { for source in signals { source.cancel() } }
            do {
                try await serving.value
            } catch is CancellationError {
                return
            }
        }
    }
}
