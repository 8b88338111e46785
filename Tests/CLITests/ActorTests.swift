import Foundation
import TestSupport
import Testing

/// Who acts: `--as`, else the git identity of the repository the user works in, recorded in review
/// notes, merge commits and the audit log (`devsys audit`), with the CLI's role, admin.
@Suite struct ActorTests {
    struct AuditRow: Decodable, Equatable {
        var actor: String
        var role: String
        var action: String
        var target: String
        var outcome: String
    }

    /// Runs devsys in `directory` with no GIT_AUTHOR_* variables, so only git's configuration names the user.
    static func devsysWithoutAuthor(_ arguments: [String], in directory: URL, home: URL) throws -> ChildProcess.Result {
        var environment = commandEnvironment
        environment["GIT_AUTHOR_NAME"] = nil
        environment["GIT_AUTHOR_EMAIL"] = nil
        environment["HOME"] = home.path
        return try ChildProcess(
            "/bin/sh",
            ["-c", "cd \"$0\" && exec \"$@\"", directory.path, devsysBinary] + arguments,
            environment: environment,
            output: .captured
        ).wait()
    }

    @Test func approveFromACloneRecordsItsGitIdentityAndAsOverridesIt() throws {
        let scratch = try Scratch()
        let bare = scratch.url.appendingPathComponent("blog.git")
        let clone = scratch.url.appendingPathComponent("blog")
        #expect(try devsys("init", "--bare", bare.path).status == 0)
        try git("clone", "-q", bare.path, clone.path, in: scratch.url)
        let run = try devsys("run", "--until-idle", "--timeout", "60", "--repo", bare.path)
        try #require(run.status == 0, "\(run.stderr)")
        try git("config", "user.name", "Ada Lovelace", in: clone)
        try git("config", "user.email", "ada@example.com", in: clone)

        let approve = try Self.devsysWithoutAuthor(["pr", "approve", "001-about-page", "--repo", bare.path], in: clone, home: scratch.url)
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(approve.stdout.contains("as Ada Lovelace <ada@example.com>"), "\(approve.stdout)")
        let second = try Self.devsysWithoutAuthor(
            ["pr", "approve", "001-about-page", "--repo", bare.path, "--as", "Grace Hopper <grace@example.com>"],
            in: clone,
            home: scratch.url
        )
        #expect(second.status == 0, "\(second.stderr)")
        let note = try git("notes", "--ref=devsys/reviews", "show", "task/001-about-page", in: bare).split(separator: "\n")
        #expect(note.count == 2)
        #expect(note.first?.hasPrefix("Approved-by: Ada Lovelace <ada@example.com> at ") == true, "\(note)")
        #expect(note.last?.hasPrefix("Approved-by: Grace Hopper <grace@example.com> at ") == true, "\(note)")
        #expect(try git("log", "-1", "--format=%an <%ae>", "refs/notes/devsys/reviews", in: bare) == "Grace Hopper <grace@example.com>\n")

        let merge = try devsys("pr", "merge", "001-about-page", "--repo", bare.path, "--as", "Grace Hopper <grace@example.com>")
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(try git("log", "-1", "--format=%an <%ae>%n%b", "main", in: bare).hasPrefix("Grace Hopper <grace@example.com>\n"))
        let refused = try Self.devsysWithoutAuthor(["task", "cancel", "001-about-page", "--repo", bare.path], in: clone, home: scratch.url)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("task 001-about-page is merged"), "\(refused.stderr)")

        let audit = try devsys("audit", "--json", "--repo", bare.path)
        #expect(audit.status == 0, "\(audit.stderr)")
        let rows = try JSONDecoder().decode([AuditRow].self, from: Data(audit.stdout.utf8)).reversed().map {
            "\($0.actor)|\($0.role)|\($0.action)|\($0.outcome.prefix(7))"
        }
        #expect(
            rows == [
                "Ada Lovelace <ada@example.com>|admin|pr.approve|ok", "Grace Hopper <grace@example.com>|admin|pr.approve|ok",
                "Grace Hopper <grace@example.com>|admin|pr.merge|ok: mer", "Ada Lovelace <ada@example.com>|admin|task.cancel|refused",
            ],
            "\(audit.stdout)"
        )
        let table = try devsys("audit", "--repo", bare.path)
        #expect(table.stdout.contains("Ada Lovelace <ada@example.com>") && table.stdout.contains("pr.approve"), "\(table.stdout)")
    }

    @Test func everyMutatingCommandTakesAs() throws {
        for command in [["deploy"], ["rollback"], ["pr", "approve"], ["pr", "merge"], ["pr", "reject"], ["task", "retry"], ["task", "cancel"]] {
            let help = try run(devsysBinary, command + ["--help"])
            #expect(help.stdout.contains("--as <name>"), "\(command): \(help.stdout)")
        }
    }
}
