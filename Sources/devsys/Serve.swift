import ArgumentParser
import Foundation
import Pipeline
import Runtime

extension Devsys {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the controller until stopped (SIGTERM or Ctrl-C stop it gracefully).",
            discussion: """
                Runs the controller's services side by side: the reconciler (a push wakes it at once
                through the post-receive hook's `devsys notify`; without the hook it polls every
                --poll seconds), one worker lane per step — coding (agents.coding.parallel),
                testing (agents.testing.parallel), merge, deploy (one job per environment,
                environments in parallel) — a drift check every --drift-interval seconds, and a
                heartbeat that keeps running jobs' leases alive. A long coding agent never delays a
                test, a merge or a rollback: each lane leases as soon as it has a free slot.

                Stopping (SIGTERM, Ctrl-C): no new job is started; running jobs get --grace seconds
                to finish, then their agents are stopped and their jobs go back to the queue
                without counting an attempt — the next controller picks them up. A killed
                controller loses nothing either: its leases expire within a minute and are taken
                over, again without counting against the task's retry_policy.

                Environments: an env ref (refs/heads/env/<env>) that differs from what its hosts serve
                is deployed; a host that drifted from its env ref is redeployed (docs/deployment.md).

                  devsys serve --repo /srv/git/blog.git
                  devsys serve --log-format json 2>> /var/log/devsys.jsonl   one JSON object per line
                """
        )

        @OptionGroup var options: ControllerOptions
        @OptionGroup var log: LogOptions

        @Option(help: ArgumentHelp("Seconds between polls of git when no notification comes.", valueName: "seconds"))
        var poll: Double = 5

        @Option(help: ArgumentHelp("Seconds between checks that every host serves its env ref.", valueName: "seconds"))
        var driftInterval: Double = 60

        @Option(help: ArgumentHelp("Seconds running jobs may still finish after SIGTERM before they are stopped.", valueName: "seconds"))
        var grace: Double = 30

        func validate() throws {
            guard poll > 0 else { throw ValidationError("--poll must be positive") }
            guard driftInterval > 0 else { throw ValidationError("--drift-interval must be positive") }
            guard grace >= 0 else { throw ValidationError("--grace must be zero or more") }
        }

        func run() async throws {
            let logger = log.makeLogger()
            let controller = try makeController(options)
            var settings = Controller.Settings()
            settings.poll = .seconds(poll)
            settings.driftInterval = .seconds(driftInterval)
            settings.grace = .seconds(grace)
            try await controller.serve(settings, logger: logger)
            logger.info("stopped")
        }
    }
}
