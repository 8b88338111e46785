import Foundation
import TestSupport
import Testing

/// `devsys deploy`, `rollback`, `revisions` and `hosts check` on a `local` host served by php -S:
/// what a user types and reads, exit statuses, and the refusals.
@Suite(.serialized) struct DeployCommandTests {
    /// A control repository made by `devsys init` whose staging environment is one local host.
    final class Site {
        let scratch: Scratch
        let repo: URL
        let hostRoot: String
        var server: PHPServer

        /// `app` replaces the blog app's settings in devsys.yaml.
        init(app: String = "{ path: app, test: php tests/run.php }") throws {
            scratch = try Scratch()
            repo = scratch.url.appendingPathComponent("blog")
            hostRoot = scratch.path("host")
            try FileManager.default.createDirectory(atPath: hostRoot + "/blog", withIntermediateDirectories: true)
            server = try PHPServer(appRoot: hostRoot + "/blog")
            #expect(try devsys("init", repo.path).status == 0)
            try scratch.write(
                "blog/devsys.yaml",
                """
                apps:
                  blog: \(app)
                environments:
                  staging: { hosts: [dev1], keep_revisions: 3 }
                hosts:
                  dev1: { transport: local, root: \(hostRoot), url: "\(server.url)" }

                """
            )
            try commit("Staging on a local host")
        }

        deinit { server.stop() }

        /// Commits everything in the work tree; returns the new commit.
        @discardableResult
        func commit(_ message: String) throws -> String {
            try git("add", "-A", in: repo)
            try git("commit", "-q", "-m", message, in: repo)
            return try git("rev-parse", "HEAD", in: repo).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func devsysHere(_ arguments: String...) throws -> CommandResult {
            try run(devsysBinary, arguments + ["--repo", repo.path])
        }

        var served: String? {
            let response = PlainHTTP.get(server.url + "/REVISION")
            return response.status == 200 ? response.body.trimmingCharacters(in: .whitespacesAndNewlines) : nil
        }

        /// The web server goes away, and comes back on the same port.
        func stopServer() { server.stop() }
        func startServer() throws { server = try PHPServer(appRoot: hostRoot + "/blog", port: server.port) }
    }

    @Test func deployRollbackAndRevisionsTellTheStory() throws {
        let site = try Site()
        let first = try git("rev-parse", "HEAD", in: site.repo).trimmingCharacters(in: .whitespacesAndNewlines)
        try site.scratch.write("blog/app/index.php", "<?php echo 'second';\n")
        let second = try site.commit("Second")

        let deployFirst = try site.devsysHere("deploy", "staging", "--rev", "HEAD~1")
        #expect(deployFirst.status == 0, "\(deployFirst.stderr)")
        #expect(deployFirst.stdout.contains("deployed \(first.prefix(12)) to staging as deploy/staging/0001"))
        #expect(deployFirst.stderr.contains("dev1/blog: uploaded 0001-\(first.prefix(12))"), "progress goes to stderr")
        #expect(site.served == first)

        let deploySecond = try site.devsysHere("deploy", "staging")
        #expect(deploySecond.status == 0, "\(deploySecond.stderr)")
        #expect(deploySecond.stdout.contains("incremental from 0001-\(first.prefix(12))"))
        #expect(site.served == second)

        let rollback = try site.devsysHere("rollback", "staging")
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(rollback.stdout.contains("deployed \(first.prefix(12)) to staging as deploy/staging/0003"))
        #expect(rollback.stdout.contains("(already on the host)"), "nothing uploaded for a rollback")
        #expect(site.served == first)

        let listed = try site.devsysHere("revisions", "staging", "--json")
        #expect(listed.status == 0)
        let revisions = try JSONDecoder().decode(DeployRepo.Revisions.self, from: Data(listed.stdout.utf8))
        #expect(revisions.desired == first && revisions.live == first)
        #expect(revisions.revisions.map(\.tag) == ["deploy/staging/0003", "deploy/staging/0002", "deploy/staging/0001"])
        #expect(revisions.revisions.map(\.status) == ["live", "bad", ""])
        let table = try site.devsysHere("revisions", "staging")
        #expect(table.stdout.contains("deploy/staging/0002"))
        #expect(table.stdout.contains("bad (by Ada Tester <ada@example.com>: rolled back to deploy/staging/0001)"), "\(table.stdout)")

        // The rolled-back commit is not deployed again without --force.
        let refused = try site.devsysHere("deploy", "staging")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("\(second.prefix(12)) is marked bad in staging") && refused.stderr.contains("--force"))
        #expect(site.served == first)
        let forced = try site.devsysHere("deploy", "staging", "--force")
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(site.served == second)
        #expect(try git("notes", "--ref=devsys/bad", "list", in: site.repo).isEmpty, "--force cleared the mark")

        // Back two distinct deploys, skipping nothing bad: the first commit again, by tag number too.
        let byTag = try site.devsysHere("rollback", "staging", "--to", "1", "--json")
        #expect(byTag.status == 0, "\(byTag.stderr)")
        #expect(site.served == first)

        // Each command wrote its audit row, the refusal too, as the git identity with the CLI's role.
        struct AuditRow: Decodable {
            var actor: String
            var role: String
            var action: String
            var outcome: String
        }
        let audit = try JSONDecoder().decode([AuditRow].self, from: Data(try site.devsysHere("audit", "--json").stdout.utf8))
        #expect(
            audit.reversed().map { "\($0.action) \($0.outcome.prefix(while: { $0 != ":" }))" } == [
                "deploy ok", "deploy ok", "rollback ok", "deploy refused", "deploy --force ok", "rollback ok",
            ]
        )
        #expect(audit.allSatisfy { $0.actor == "Ada Tester <ada@example.com>" && $0.role == "admin" })
    }

    @Test func aStoppedWebServerRollsBackMarksNothingAndTheSameCommitDeploysOnceItIsBack() throws {
        let site = try Site()
        let first = try git("rev-parse", "HEAD", in: site.repo).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try site.devsysHere("deploy", "staging").status == 0)
        try site.scratch.write("blog/app/index.php", "<?php echo 'second';\n")
        let second = try site.commit("Second")

        site.stopServer()
        let failed = try site.devsysHere("deploy", "staging")
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("verification could not reach dev1/blog"), "\(failed.stderr)")
        #expect(failed.stderr.contains("an infrastructure failure, not the commit's"), "\(failed.stderr)")
        #expect(failed.stderr.contains("dev1/blog: rolled back to 0001-\(first.prefix(12))"), "\(failed.stderr)")
        #expect(failed.stderr.contains("refs/heads/env/staging is back on \(first.prefix(12))"), "\(failed.stderr)")
        #expect(try git("notes", "--ref=devsys/bad", "list", in: site.repo).isEmpty, "nothing marked bad")
        let events = try site.devsysHere("events")
        #expect(events.stdout.contains("deploy.error"), "\(events.stdout)")

        try site.startServer()
        #expect(site.served == first)
        let again = try site.devsysHere("deploy", "staging")
        #expect(again.status == 0, "no --force needed: \(again.stderr)")
        #expect(site.served == second)
    }

    @Test func aCLIRollbackAfterAGitRollbackGoesFurtherBack() throws {
        let site = try Site()
        // No sample task: the controller's run below has only the rollback to do.
        try git("rm", "-q", "-r", "specs/001-about-page", in: site.repo)
        let first = try site.commit("No sample task")
        #expect(try site.devsysHere("deploy", "staging").status == 0)
        try site.scratch.write("blog/app/index.php", "<?php echo 'second';\n")
        try site.commit("Second")
        #expect(try site.devsysHere("deploy", "staging").status == 0)
        try site.scratch.write("blog/app/index.php", "<?php echo 'third';\n")
        let third = try site.commit("Third")
        #expect(try site.devsysHere("deploy", "staging").status == 0)

        // With git: back to deploy 0002. The controller carries it out as a rollback.
        try git("update-ref", "refs/heads/env/staging", "deploy/staging/0002^{commit}", in: site.repo)
        let run = try site.devsysHere("run", "--until-idle")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("rolled back: staging: rolled back from \(third.prefix(12)) to deploy/staging/0002"), "\(run.stderr)")
        let notes = try git("notes", "--ref=devsys/bad", "show", third, in: site.repo)
        #expect(notes.contains("Bad: staging") && notes.contains("rolled back to deploy/staging/0002"), "\(notes)")

        // `devsys rollback` goes on from there, skipping the bad commit: to the first deploy.
        let rollback = try site.devsysHere("rollback", "staging")
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(rollback.stdout.contains("a rollback to deploy/staging/0001"), "\(rollback.stdout)")
        #expect(site.served == first)
        let events = try site.devsysHere("events")
        #expect(events.stdout.components(separatedBy: "rollback").count - 1 >= 2, "\(events.stdout)")
    }

    @Test func aFileTheAppWritesToSharedStorageSurvivesThreeDeploysAndTwoRollbacks() throws {
        let site = try Site(app: "{ path: app, shared: [storage/, .env], writable: [storage/] }")
        try site.scratch.write(
            "blog/app/upload.php",
            """
            <?php
            @mkdir(__DIR__ . '/storage/uploads', 0775, true);
            echo file_put_contents(__DIR__ . '/storage/uploads/cat.txt', 'meow') === 4 ? 'stored' : 'not stored';

            """
        )
        try site.scratch.write("blog/app/storage/.gitkeep", "")
        try site.commit("Uploads")
        #expect(try site.devsysHere("deploy", "staging").status == 0)
        let shared = site.hostRoot + "/blog/shared"
        #expect(FileManager.default.fileExists(atPath: shared + "/.env"), "a shared file is created empty")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: site.hostRoot + "/blog/current/storage") == "../../shared/storage")

        #expect(PlainHTTP.get(site.server.url + "/upload.php").summary == "200 stored")
        #expect(try String(contentsOfFile: shared + "/storage/uploads/cat.txt", encoding: .utf8) == "meow")
        for (index, page) in ["two", "three", "four"].enumerated() {
            try site.scratch.write("blog/app/index.php", "<?php echo '\(page)';\n")
            try site.commit("Page \(page)")
            let deploy = try site.devsysHere("deploy", "staging")
            #expect(deploy.status == 0, "deploy \(index + 2): \(deploy.stderr)")
            #expect(PlainHTTP.get(site.server.url + "/storage/uploads/cat.txt").summary == "200 meow", "after deploy \(index + 2)")
        }
        for step in 1...2 {
            let rollback = try site.devsysHere("rollback", "staging")
            #expect(rollback.status == 0, "rollback \(step): \(rollback.stderr)")
            #expect(PlainHTTP.get(site.server.url + "/storage/uploads/cat.txt").summary == "200 meow", "after rollback \(step)")
        }
        #expect(PlainHTTP.get(site.server.url + "/").summary.hasSuffix("two"), "two rollbacks back from four")
        // Pruning old revisions (keep_revisions: 3) never touched it.
        #expect(try String(contentsOfFile: shared + "/storage/uploads/cat.txt", encoding: .utf8) == "meow")
        #expect(PlainHTTP.get(site.server.url + "/.env").status == 404, "hidden files stay hidden")
    }

    @Test func mistakesGetClearErrors() throws {
        let site = try Site()
        let unknown = try site.devsysHere("deploy", "prod")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no environment 'prod' in devsys.yaml (known: staging)"))

        let both = try site.devsysHere("rollback", "staging", "--to", "1", "--steps", "1")
        #expect(both.status == 2)
        #expect(both.stderr.contains("give --to or --steps, not both"))

        let nothing = try site.devsysHere("rollback", "staging")
        #expect(nothing.status == 1)
        #expect(nothing.stderr.contains("staging has no earlier deploy to roll back to"))

        let badRev = try site.devsysHere("deploy", "staging", "--rev", "no-such-branch")
        #expect(badRev.status == 1)
        #expect(badRev.stderr.contains("cannot resolve 'no-such-branch'"))

        let missingTag = try site.devsysHere("rollback", "staging", "--to", "deploy/staging/0042")
        #expect(missingTag.status == 1)
        #expect(missingTag.stderr.contains("no deploy tag 'deploy/staging/0042' for staging"))

        let check = try site.devsysHere("hosts", "check")
        #expect(check.status == 0)
        #expect(check.stdout.contains("ok   dev1: \(site.hostRoot) is writable"))

        let trustLocal = try site.devsysHere("hosts", "trust", "dev1", "--yes")
        #expect(trustLocal.status == 1)
        #expect(trustLocal.stderr.contains("dev1 is a 'local' host"))
    }
}
