import ArgumentParser
import ControlRepository
import Foundation

extension Devsys {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a control repository with an example app, spec and checks.",
            discussion: """
                The new repository has one commit on main holding devsys.yaml, specs/001-about-page,
                monitoring/checks.yaml, a sample PHP app and its tests, and devsys's git hooks
                (pre-commit and pre-receive validate specs).

                A bare repository (--bare) is what a team pushes to:
                  devsys init --bare /srv/git/blog.git
                  git clone /srv/git/blog.git && cd blog
                """
        )

        @Argument(help: ArgumentHelp("The folder to create; it must not exist or be empty.", valueName: "dir"))
        var directory: String

        @Flag(help: "Create a bare repository (no work tree), to push to.")
        var bare = false

        func run() throws {
            let url = URL(fileURLWithPath: directory)
            do {
                let control = try ControlRepository.initialize(
                    at: url,
                    bare: bare,
                    devsysBinary: currentExecutablePath(),
                    author: actingSignature()
                )
                let kind = bare ? "bare control repository" : "control repository"
                print("Created \(kind) in \(control.repository.gitDirectory.path)")
                if !bare {
                    print("Next: cd \(directory) && devsys validate")
                }
            } catch {
                throw CommandFailure("init \(directory): \(error)")
            }
        }
    }
}
