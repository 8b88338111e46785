import ArgumentParser
import ControlRepository
import Foundation

extension Devsys {
    struct Hooks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the git hooks that validate specs.",
            subcommands: [Install.self]
        )

        struct Install: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Install devsys's pre-commit and pre-receive hooks into a repository.",
                discussion: """
                    pre-commit checks staged specs; pre-receive refuses a push to the trunk whose specs
                    are invalid and shows the pusher why. The hooks call this devsys binary by its
                    absolute path, falling back to `devsys` on PATH. `devsys init` installs them already.
                    """
            )

            @OptionGroup var repository: LocalRepositoryOptions

            @Flag(help: "Replace hooks that devsys did not write.")
            var force = false

            func run() throws {
                let control = try repository.open()
                do {
                    let written = try HookInstaller(devsysBinary: currentExecutablePath())
                        .install(in: control.repository, force: force)
                    for path in written { print("installed \(path.path)") }
                } catch {
                    throw CommandFailure("\(error)")
                }
            }
        }
    }
}
