import ArgumentParser
import ControlRepository
import Foundation
import Pipeline

extension Devsys {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Process everything pending, then exit (for scripts, CI and the demo).",
            discussion: """
                Reconciles the trunk into tasks and runs their jobs — coding, testing, merges — until
                nothing is left to do, waiting out retry backoffs. Progress goes to stderr.

                  devsys run --until-idle              exit when idle
                  devsys run --until-idle --timeout 60 give up (exit 1) after a minute

                A running `devsys serve` does the same continuously; only one controller may run on
                a state folder at a time.
                """
        )

        @OptionGroup var options: ControllerOptions

        @Flag(help: "Exit once no job is pending (required: `run` without it is `serve`).")
        var untilIdle = false

        @Option(help: ArgumentHelp("Give up after this many seconds (exit 1).", valueName: "seconds"))
        var timeout: Double = 3600

        func validate() throws {
            guard untilIdle else { throw ValidationError("run needs --until-idle; to keep running, use devsys serve") }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        }

        func run() async throws {
            let controller = try makeController(options)
            let idle = try await controller.runUntilIdle(deadline: Date().addingTimeInterval(timeout), progress: printProgress)
            guard idle else {
                throw CommandFailure("run: still busy after \(timeout) s; 'devsys tasks' shows where each task is")
            }
        }
    }
}

/// Opens the controller for the repository and state folder in `options`.
func makeController(_ options: ControllerOptions) throws -> Controller {
    let (control, state) = try options.locate()
    do {
        let trunk = try control.trunkCommit()
        let parallel = (try? control.config(at: trunk.commit))??.agents.testing.parallel ?? 2
        return try Controller(repositoryPath: options.repositoryPath(of: control), state: state, testingParallel: parallel)
    } catch {
        throw CommandFailure("\(error)")
    }
}

/// A progress line on stderr, with the time.
@Sendable func printProgress(_ line: String) {
    let time = Date().formatted(.iso8601.time(includingFractionalSeconds: false))
    FileHandle.standardError.write(Data("[\(time)] \(line)\n".utf8))
}
