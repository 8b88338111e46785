import ArgumentParser
import ControlRepository
import Foundation
import Pipeline
import Runtime

extension Devsys {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Process everything pending, then exit (for scripts, CI and the demo).",
            discussion: """
                Runs the same services as `devsys serve` — reconciler, worker lanes, lease
                heartbeat — until nothing is left to do: no job running or pending, retry backoffs
                waited out. Hosts are checked for drift first. Progress goes to stderr; at the end a
                summary says what happened: tasks started, in review, merged, deployed and failed,
                deploys made and failed, jobs given up.

                Exit status: 0 when the run ended idle with nothing failed; 1 when a task failed, a
                deploy failed or a job was given up during the run, or --timeout passed first.

                  devsys run --until-idle              exit when idle
                  devsys run --until-idle --timeout 60 give up (exit 1) after a minute

                A running `devsys serve` does the same continuously; only one controller may run on
                a state folder at a time.
                """
        )

        @OptionGroup var options: ControllerOptions
        @OptionGroup var log: LogOptions

        @Flag(help: "Exit once no job is pending (required: `run` without it is `serve`).")
        var untilIdle = false

        @Option(help: ArgumentHelp("Give up after this many seconds (exit 1).", valueName: "seconds"))
        var timeout: Double = 3600

        @Option(help: ArgumentHelp("Seconds running jobs may still finish after SIGTERM or the timeout.", valueName: "seconds"))
        var grace: Double = 30

        @Flag(help: "Print the summary as JSON on stdout.")
        var json = false

        func validate() throws {
            guard untilIdle else { throw ValidationError("run needs --until-idle; to keep running, use devsys serve") }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
            guard grace >= 0 else { throw ValidationError("--grace must be zero or more") }
        }

        func run() async throws {
            let logger = log.makeLogger()
            let controller = try makeController(options)
            var settings = Controller.Settings()
            settings.grace = .seconds(grace)
            let report = try await controller.runUntilIdle(
                deadline: Date().addingTimeInterval(timeout),
                settings: settings,
                signals: [.sigterm, .sigint],
                logger: logger
            )
            if json { try printJSON(report) }
            for line in report.lines { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
            if report.timedOut {
                throw CommandFailure("run: still busy after \(timeout) s; 'devsys status' shows where each task is")
            }
            guard report.idle else {
                throw CommandFailure("run: stopped before it was idle; running jobs went back to the queue uncounted")
            }
            if report.hadFailures { throw ExitCode.failure }
        }
    }
}

/// Opens the controller for the repository and state folder in `options`.
func makeController(_ options: ControllerOptions) throws -> Controller {
    let (control, state) = try options.locate()
    return try Controller(repositoryPath: options.repositoryPath(of: control), state: state)
}

/// A progress line on stderr, with the time.
@Sendable func printProgress(_ line: String) {
    let time = Date().formatted(.iso8601.time(includingFractionalSeconds: false))
    FileHandle.standardError.write(Data("[\(time)] \(line)\n".utf8))
}
