import ArgumentParser
import Foundation
import Specs

/// The `devsys` command: a list of subcommands, each in its own file as `extension Devsys`.
@main
struct Devsys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devsys",
        abstract: "A git-native GitOps controller for agent-driven delivery.",
        discussion: """
            Commit a task spec (specs/<id>/task.yaml) to a control repository: devsys
            drives it through a coding agent, a testing agent and review, and records
            every result in git.

            Start here:
              devsys init --bare blog.git              a repository with an example spec
              devsys run --until-idle --repo blog.git  code and test it
              devsys pr list --repo blog.git           the tested branch waits for review

            Then, from a clone (git clone blog.git blog && cd blog):
              devsys status                tasks, environments, jobs, last error
              devsys events --follow       watch what the controller does
              devsys tasks                 every task and where it is

            Which repository: commands that read or drive the controller use the
            control repository: --repo DIR, else $DEVSYS_REPO, else the repository
            around the working directory — or, in a clone whose origin is a
            control repository on this machine (a bare repository, or a work tree
            with devsys state), that one. Its state is devsys/ in its git
            directory (--state DIR overrides). validate and hooks install work on
            the repository at hand: in a clone, the clone itself.

            Exit status: 0 ok, 1 failed (e.g. invalid specs, no control repository
            found), 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Validate.self, Hooks.self, Serve.self, Run.self, Notify.self, Status.self, Events.self, Tasks.self, TaskCommand.self,
            Report.self, PullRequests.self,
            DeployCommand.self, RollbackCommand.self, Revisions.self, Hosts.self, Audit.self, Doctor.self, Demo.self, Reindex.self,
        ]
    )

    /// Exit status for bad usage; the contract says 2 (swift-argument-parser would use 64).
    static let usageExitCode: Int32 = 2

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as any DomainError {
            Foundation.exit(ErrorReport.report(error, json: CommandLine.arguments.contains("--json")))
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(usageExitCode)
            }
            exit(withError: error)
        }
    }
}
