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

                Environments: an env ref (refs/heads/env/<env>) that differs from what its hosts serve
                is deployed; every --drift-interval seconds each host's live revision is compared with
                its env ref, and a host that drifted is redeployed (docs/deployment.md).
                """
        )

        @OptionGroup var options: ControllerOptions

        @Option(help: ArgumentHelp("Seconds between polls of git when no notification comes.", valueName: "seconds"))
        var poll: Double = 5

        @Option(help: ArgumentHelp("Seconds between checks that every host serves its env ref.", valueName: "seconds"))
        var driftInterval: Double = 60

        func validate() throws {
            guard poll > 0 else { throw ValidationError("--poll must be positive") }
            guard driftInterval > 0 else { throw ValidationError("--drift-interval must be positive") }
        }

        func run() async throws {
            let controller = try makeController(options)
            printProgress("serving \(controller.repositoryPath) (state \(controller.state.url.path))")
            let (poll, drift) = (self.poll, driftInterval)
            let serving = Task { try await controller.serve(pollInterval: poll, driftInterval: drift, progress: printProgress) }
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
