import Actions
import Deploy
import Environments
import Foundation
import Git
import Probes
import Runtime
import Store
import TestSupport
import Testing

@testable import Pipeline

/// Environments end to end on `local` hosts, each served by its own `php -S` with devsys's router:
/// auto-deploy of merged tasks, tags, verification with rollback of every host, bad revisions,
/// rollback by moving the env ref with git, drift, and protected environments.
// No wall-clock deadline inside a test: on a busy machine the blocking git and store calls wait
// for a core, and a fixed deadline counted that as failure. The time limit is for a hang only.
@Suite(.serialized, .timeLimit(.minutes(10))) struct EnvironmentTests {
    /// A repository with environment `staging` on two local hosts (`h1`, `h2`), each behind a
    /// php -S on its own port; `prod` on `h1` with `approval: deployer`.
    final class Setup {
        let repo: PipelineRepo
        let hostRoots: [String]
        var servers: [PHPServer]

        /// `apps` replaces the `apps:` section's body (for `shared`, `build`, `release`).
        init(apps: String = "  web: { path: app, test: sh tests/run.sh }") throws {
            let repo = try PipelineRepo()
            let roots = ["h1", "h2"].map { repo.root.appendingPathComponent("hosts/\($0)").path }
            for root in roots { try FileManager.default.createDirectory(atPath: root + "/web", withIntermediateDirectories: true) }
            self.repo = repo
            hostRoots = roots
            servers = try roots.map { try PHPServer(appRoot: $0 + "/web") }
            try repo.write(
                "devsys.yaml",
                """
                apps:
                \(apps)
                environments:
                  staging: { hosts: [h1, h2], auto_deploy: true, keep_revisions: 3 }
                  prod: { hosts: [h1], auto_deploy: true, approval: deployer }
                hosts:
                  h1: { transport: local, root: \(hostRoots[0]), url: "\(servers[0].url)" }
                  h2: { transport: local, root: \(hostRoots[1]), url: "\(servers[1].url)" }
                agents:
                  coding: { kind: script, timeout_s: 60 }

                """
            )
            try repo.commit("Environments")
        }

        deinit {
            for server in servers { server.stop() }
            repo.remove()
        }

        /// The commit `current` serves on host `index` (its REVISION file), read from disk.
        func live(_ index: Int) -> String? {
            (try? String(contentsOfFile: hostRoots[index] + "/web/current/REVISION", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines
            )
        }

        /// What the host's web server says it serves.
        func served(_ index: Int) -> String? {
            let response = HTTPProbe.get(servers[index].url + "/REVISION", timeout: .seconds(5))
            return response.status == 200 ? String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil
        }

        var refs: EnvironmentRefs {
            get throws { EnvironmentRefs(repository: try Repository.open(at: repo.path), environment: "staging") }
        }
    }

    /// Adds an auto-reviewed spec for staging whose page must be served, and runs until idle.
    func ship(_ id: String, _ setup: Setup, _ controller: Controller, httpBody: String = "1") async throws {
        try setup.repo.addSpec(id, review: "auto", deployTo: "staging", httpCheck: "/\(id).txt", httpBody: httpBody)
        try setup.repo.commit("Add \(id)")
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        try setup.repo.git("reset", "-q", "--hard")  // the work tree catches up with the merges devsys made
    }

    @Test func aMergedTaskIsDeployedToEveryHostVerifiedAndTagged() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try await ship("301-first", setup, controller)

        let task = try #require(try controller.store.task(id: "301-first"))
        #expect(task.state == .deployed, "\(task.reason ?? "")")
        let trunk = try setup.repo.rev("main")
        #expect(try setup.refs.desired()?.hex == trunk)
        #expect(setup.live(0) == trunk && setup.live(1) == trunk)
        #expect(setup.served(0) == trunk && setup.served(1) == trunk)

        let tags = try setup.refs.tags()
        #expect(tags.map(\.name) == ["deploy/staging/0001"])
        // What the controller did on its own is in the audit log, as the controller.
        let audit = try controller.store.audit().filter { $0.role == "controller" && $0.actor == "devsys" }
        #expect(audit.contains { $0.action == "pr.merge (review: auto)" && $0.outcome.hasPrefix("ok: merged as ") }, "\(audit)")
        #expect(audit.contains { $0.action == "deploy" && $0.outcome == "ok: deploy/staging/0001" }, "\(audit)")
        let tag = try #require(tags.first)
        #expect(tag.commit == trunk)
        #expect(tag.fields["Tasks"] == "301-first")
        #expect(tag.fields["Hosts"] == "h1, h2")
        #expect(tag.message.contains("h2/web: \(setup.servers[1].url) serves \(trunk.prefix(12)); 1/1 checks passed"))
        #expect(tag.message.contains("GET /301-first.txt 200"), "status, latency and a body snippet of each check: \(tag.message)")
        #expect(tag.message.contains("GET /REVISION 200") && tag.message.contains("\"\(trunk.prefix(40))\""))
        // The same tag, read by git itself.
        #expect(try setup.repo.git("cat-file", "-t", "deploy/staging/0001").trimmingCharacters(in: .whitespacesAndNewlines) == "tag")

        // Nothing more to do: the env ref and the hosts agree.
        #expect(try Reconciler(repositoryPath: setup.repo.path, store: controller.store).reconcile().deploys.isEmpty)
        // The protected environment was not touched.
        #expect(try EnvironmentRefs(repository: Repository.open(at: setup.repo.path), environment: "prod").desired() == nil)
        #expect(try controller.store.task(id: "301-first")?.state == .deployed)
    }

    /// h2's web server is started again on a stale copy of the good revision (as PHP's caches can
    /// keep serving an old tree): the new commit is served on h1, not on h2.
    func serveStaleTree(on index: Int, _ setup: Setup) throws {
        let stale = setup.repo.root.appendingPathComponent("stale-\(index)").path
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: true)
        let live = try FileManager.default.destinationOfSymbolicLink(atPath: setup.hostRoots[index] + "/web/current")
        try FileManager.default.copyItem(atPath: setup.hostRoots[index] + "/web/" + live, toPath: stale + "/current")
        let port = setup.servers[index].port
        setup.servers[index].stop()
        setup.servers[index] = try PHPServer(appRoot: stale, port: port)
    }

    /// h2's web server serves the host's own tree again, on the same port.
    func serveHostTree(on index: Int, _ setup: Setup) throws {
        let port = setup.servers[index].port
        setup.servers[index].stop()
        setup.servers[index] = try PHPServer(appRoot: setup.hostRoots[index] + "/web", port: port)
    }

    @Test func aHostFailingVerificationRollsEveryHostBackAndMarksTheCommitBad() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try await ship("311-good", setup, controller)
        let good = try setup.repo.rev("main")
        #expect(setup.served(0) == good && setup.served(1) == good)

        // h2's web server keeps serving the old tree: the next deploy switches both hosts, h2
        // answers with the wrong REVISION — a regression.
        try serveStaleTree(on: 1, setup)
        try await ship("312-unlucky", setup, controller)
        let bad = try setup.repo.rev("main")
        #expect(bad != good)
        #expect(setup.live(0) == good && setup.live(1) == good, "both hosts are back on the good commit")
        #expect(setup.served(0) == good)
        let refs = try setup.refs
        #expect(try refs.desired()?.hex == good, "the env ref is reset to what is live")
        #expect(try refs.badReason(try #require(ObjectID(hex: bad)))?.contains("h2") == true)
        #expect(try refs.tags().map(\.commit) == [good], "no tag for the failed deploy")
        let task = try #require(try controller.store.task(id: "312-unlucky"))
        #expect(task.state == .failed)
        #expect(task.reason?.contains("deploy to staging failed") == true)
        #expect(try controller.store.events(limit: 50).contains { $0.kind == "deploy.failed" })

        // Someone points the env ref at the bad commit again: refused, with a reason, not deployed.
        try setup.repo.git("update-ref", "refs/heads/env/staging", bad)
        let summary = try Reconciler(repositoryPath: setup.repo.path, store: controller.store).reconcile()
        #expect(summary.deploys.isEmpty)
        let refused = try #require(try controller.store.events(limit: 50).first { $0.kind == "deploy.refused" })
        #expect(refused.message.contains("marked bad") && refused.message.contains("--force"))
        #expect(setup.live(0) == good)
        try setup.repo.git("update-ref", "refs/heads/env/staging", good)

        // h2 is fixed; `task retry` redeploys the task's commit (nothing is coded again), with its checks.
        try serveHostTree(on: 1, setup)
        let retried = try TaskRetry(repositoryPath: setup.repo.path, store: controller.store).retry(taskID: "312-unlucky", actor: "Ada")
        #expect(retried.step == .deploy)
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        let redeployed = try #require(try controller.store.task(id: "312-unlucky"))
        #expect(redeployed.state == .deployed, "\(redeployed.reason ?? "")")
        #expect(redeployed.attempt == task.attempt, "not coded again")
        #expect(setup.served(0) == bad && setup.served(1) == bad)
        let tag = try #require(try refs.tags().last)
        #expect(tag.commit == bad)
        #expect(tag.message.contains("GET /312-unlucky.txt 200"), "its acceptance check ran: \(tag.message)")
    }

    @Test func aStoppedWebServerIsAnOutageNotARegression() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try await ship("313-good", setup, controller)
        let good = try #require(ObjectID(hex: try setup.repo.rev("main")))

        // h2's web server is down while a new commit is verified: rolled back, marked nothing.
        let port = setup.servers[1].port
        setup.servers[1].stop()
        try setup.repo.write("app/313-next.txt", "next\n")
        try setup.repo.commit("Next")
        let next = try #require(ObjectID(hex: try setup.repo.rev("main")))
        let refs = try setup.refs
        try refs.move(to: next, expecting: good, message: "push")
        let agent = DeploymentAgent(repositoryPath: setup.repo.path, store: controller.store, connections: controller.connections)
        #expect {
            try agent.deploy(environment: "staging", commit: next, actor: "devsys", reason: "env ref moved")
        } throws: { error in
            guard let outage = error as? DeployOutage else { return false }
            return outage.description.contains("an infrastructure failure, not the commit's") && outage.report.rollout.hosts.allSatisfy(\.rolledBack)
        }
        #expect(setup.live(0) == good.hex && setup.live(1) == good.hex)
        #expect(try refs.badReason(next) == nil)
        #expect(try refs.desired() == next, "the desired state stands: the controller retries it")
        #expect(try agent.liveCommit("staging") == good)

        // The web server is back: the controller deploys the same commit, no --force.
        setup.servers[1] = try PHPServer(appRoot: setup.hostRoots[1] + "/web", port: port)
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        #expect(setup.served(0) == next.hex && setup.served(1) == next.hex)
        #expect(try refs.tags().last?.commit == next.hex)
    }

    @Test func aPersonsDeployStoppedByAnOutagePutsEverythingBackAndTheTaskWaits() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try setup.repo.addSpec("315-prod", review: "auto", deployTo: "prod", httpCheck: "/315-prod.txt", httpBody: "1")
        try setup.repo.commit("Add 315")
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        #expect(try controller.store.task(id: "315-prod")?.state == .merged)

        // prod's only host, h1, has no web server answering: `devsys deploy prod` stops.
        let port = setup.servers[0].port
        setup.servers[0].stop()
        let ada = Principal(name: "Ada", role: .deployer)
        let failure = await #expect(throws: DeployOutcome.Failure.self) { try await controller.deployed(environment: "prod", by: ada) }
        #expect(failure?.code == "deploy_outage", "\(String(describing: failure))")
        #expect(failure?.message.contains("is removed again (it named nothing before)") == true, "\(String(describing: failure))")
        #expect(failure?.message.contains("deploy again (no force needed)") == true)
        let prod = EnvironmentRefs(repository: try Repository.open(at: setup.repo.path), environment: "prod")
        #expect(try prod.desired() == nil, "the env ref named nothing before, and names nothing again")
        #expect(setup.live(0) == nil, "nothing to roll back to: no current")
        let task = try #require(try controller.store.task(id: "315-prod"))
        #expect(task.state == .merged, "the task waits for the next deploy, nothing is queued behind your back")
        #expect(task.reason?.contains("did not finish") == true, "\(task.reason ?? "")")
        #expect(try controller.store.events(limit: 20).contains { $0.kind == "deploy.error" && $0.message.contains("by Ada") })

        setup.servers[0] = try PHPServer(appRoot: setup.hostRoots[0] + "/web", port: port)
        let report = try await controller.deployed(environment: "prod", by: ada)
        #expect(report.succeeded && report.tasks == ["315-prod"])
        #expect(try controller.store.task(id: "315-prod")?.state == .deployed)
    }

    @Test func aFailedFirstDeployLeavesNothingServingIt() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        // Its acceptance check wants a body the page does not have: a regression on the first deploy.
        try await ship("314-first", setup, controller, httpBody: "never there")
        let commit = try #require(ObjectID(hex: try setup.repo.rev("main")))
        for index in 0..<2 {
            #expect(setup.live(index) == nil, "no current on h\(index + 1)")
            let response = HTTPProbe.get(setup.servers[index].url + "/REVISION", timeout: .seconds(5))
            #expect(response.status == 503, "the site answers as before the first deploy")
        }
        let refs = try setup.refs
        #expect(try refs.desired() == nil, "the env ref is gone again")
        #expect(try refs.badReason(commit) != nil)
        let failed = try #require(try controller.store.events(limit: 50).last { $0.kind == "deploy.failed" })
        #expect(failed.message.contains("nothing to roll back to"), "\(failed.message)")
        #expect(try controller.store.task(id: "314-first")?.state == .failed)

        // `devsys deploy --force` of the same commit runs the checks of the task it brings (not 0/0).
        let again = try await controller.deployed(environment: "staging", force: true, by: Principal(name: "Ada", role: .deployer))
        #expect(!again.succeeded)
        #expect(again.tasksChecked == ["314-first"])
        #expect(again.rollout.hosts.allSatisfy { $0.verification?.checks.count == 1 })
        #expect(again.rollout.nothingToRollBackTo && again.refRemoved)
        #expect(setup.live(0) == nil && setup.live(1) == nil)
    }

    @Test func movingTheEnvRefBackWithGitRollsBackWithinOneRun() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try await ship("321-one", setup, controller)
        let first = try setup.repo.rev("main")
        try await ship("322-two", setup, controller)
        let second = try setup.repo.rev("main")
        #expect(setup.served(0) == second && setup.served(1) == second)

        // Plain git: the env ref goes back to the first deploy's commit.
        try setup.repo.git("update-ref", "refs/heads/env/staging", "deploy/staging/0001^{commit}")
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        #expect(setup.served(0) == first && setup.served(1) == first)
        let tags = try setup.refs.tags()
        #expect(tags.map(\.commit) == [first, second, first], "the rollback is a deploy of its own, tagged")
        // The revision was still on the hosts: switched back without an upload.
        let revisions = try FileManager.default.contentsOfDirectory(atPath: setup.hostRoots[0] + "/web/revisions").filter { !$0.hasPrefix(".") }
        #expect(revisions.count == 2)
    }

    @Test func aGitRollbackIsARollbackAndTheNextRollbackGoesFurtherBack() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try await ship("361-a", setup, controller)
        let a = try setup.repo.rev("main")
        try await ship("362-b", setup, controller)
        let b = try setup.repo.rev("main")
        try await ship("363-c", setup, controller)
        let c = try setup.repo.rev("main")
        let refs = try setup.refs
        #expect(try refs.tags().map(\.commit) == [a, b, c])

        // Plain git: back to the second deploy. The same rollback as `devsys rollback`: an event,
        // the commit left marked bad, its task no longer live.
        try setup.repo.git("update-ref", "refs/heads/env/staging", "deploy/staging/0002^{commit}")
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        #expect(setup.served(0) == b && setup.served(1) == b)
        #expect(try refs.badReason(try #require(ObjectID(hex: c)))?.contains("rolled back to deploy/staging/0002") == true)
        let event = try #require(try controller.store.events(limit: 50).last { $0.kind == "rollback" })
        #expect(event.message.contains("rolled back from \(c.prefix(12)) to deploy/staging/0002"), "\(event.message)")
        #expect(event.message.contains("no longer live: 363-c"), "\(event.message)")
        let taken = try #require(try controller.store.task(id: "363-c"))
        #expect(taken.state == .merged)
        #expect(taken.reason?.contains("rolled back: its change is no longer live in staging") == true, "\(taken.reason ?? "")")
        #expect(try controller.store.task(id: "362-b")?.state == .deployed)
        let rollbackTag = try #require(try refs.tags().last)
        #expect(rollbackTag.commit == b && rollbackTag.fields["Rollback-To"] == "deploy/staging/0002")

        // `devsys rollback` from there goes further back, past the bad commit: to the first deploy.
        let report = try await controller.rolledBack(environment: "staging", by: Principal(name: "Ada", role: .deployer))
        #expect(report.succeeded)
        #expect(report.rollbackTo == "deploy/staging/0001")
        #expect(report.tasksRolledBack == ["362-b"])
        #expect(setup.served(0) == a && setup.served(1) == a)
        #expect(try refs.badReason(try #require(ObjectID(hex: b))) != nil)
        #expect(try controller.store.task(id: "362-b")?.state == .merged)
        #expect(try controller.store.task(id: "361-a")?.state == .deployed)

        // Auto-deploy never puts a bad commit back, and says so: the trunk (c) is bad.
        try controller.store.setValue(nil, forKey: Reconciler.positionKey)
        let summary = try Reconciler(repositoryPath: setup.repo.path, store: controller.store).reconcile()
        #expect(summary.promoted.isEmpty && summary.deploys.isEmpty)
        let skipped = try #require(try controller.store.events(limit: 50).last { $0.kind == "deploy.refused" })
        #expect(skipped.message.contains("auto-deploy skips \(c.prefix(12))"), "\(skipped.message)")
        #expect(try refs.desired()?.hex == a)
    }

    /// The release commands of a PHP app (`build`, `release.before_switch|once|after_switch`) on
    /// two hosts: `once` runs on exactly one, and a failing build leaves both on the old revision.
    @Test func buildAndReleaseCommandsRunAroundTheSwitchAndAFailingBuildSwitchesNoHost() async throws {
        let setup = try Setup(
            apps: """
                  web:
                    path: app
                    test: sh tests/run.sh
                    shared: [storage/]
                    build: ["test ! -e fail-build || { echo 'composer: no lock file' >&2; exit 3; }", "echo built > built.txt"]
                    release:
                      before_switch: ["echo before >> $DEVSYS_SHARED/storage/steps.log"]
                      once: ["echo migrated-on-$(basename $(dirname $DEVSYS_APP_ROOT)) >> $DEVSYS_SHARED/storage/migrations.log"]
                      after_switch: ["test -L ../../current && echo after >> $DEVSYS_SHARED/storage/steps.log"]
                """
        )
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try await ship("371-first", setup, controller)
        let first = try setup.repo.rev("main")
        #expect(setup.served(0) == first && setup.served(1) == first)
        for index in 0..<2 {
            let built = try String(contentsOfFile: setup.hostRoots[index] + "/web/current/built.txt", encoding: .utf8)
            #expect(built == "built\n", "build ran in the new revision on h\(index + 1)")
            let steps = try String(contentsOfFile: setup.hostRoots[index] + "/web/shared/storage/steps.log", encoding: .utf8)
            #expect(steps == "before\nafter\n", "h\(index + 1): \(steps)")
        }
        let migrations = (0..<2).compactMap {
            try? String(contentsOfFile: setup.hostRoots[$0] + "/web/shared/storage/migrations.log", encoding: .utf8)
        }
        #expect(migrations == ["migrated-on-h1\n"], "once: on exactly one of the two hosts")
        let tag = try #require(try setup.refs.tags().last)
        #expect(tag.message.contains("build: test ! -e fail-build"), "the build's output is in the tag: \(tag.message)")

        // A commit whose build fails: no host switches, the new revisions are gone, nothing is bad.
        try setup.repo.write("app/fail-build", "1\n")
        try setup.repo.commit("Breaks the build")
        let broken = try #require(ObjectID(hex: try setup.repo.rev("main")))
        let refs = try setup.refs
        try refs.move(to: broken, expecting: ObjectID(hex: first), message: "push")
        let agent = DeploymentAgent(repositoryPath: setup.repo.path, store: controller.store, connections: controller.connections)
        #expect {
            try agent.deploy(environment: "staging", commit: broken, actor: "devsys", reason: "env ref moved")
        } throws: { error in
            "\(error)".contains("build command 'test ! -e fail-build") && "\(error)".contains("composer: no lock file")
        }
        #expect(setup.live(0) == first && setup.live(1) == first, "every host on the old revision")
        for index in 0..<2 {
            let revisions = try FileManager.default.contentsOfDirectory(atPath: setup.hostRoots[index] + "/web/revisions")
            #expect(!revisions.contains { $0.hasSuffix(String(broken.hex.prefix(12))) }, "the unbuilt revision is removed: \(revisions)")
            let log = try String(contentsOfFile: setup.hostRoots[index] + "/web/.devsys/log", encoding: .utf8)
            #expect(log.contains("composer: no lock file"), "the output is in the deploy log")
        }
        #expect(try refs.badReason(broken) == nil)
        #expect(
            migrations
                == (0..<2).compactMap { try? String(contentsOfFile: setup.hostRoots[$0] + "/web/shared/storage/migrations.log", encoding: .utf8) }
        )
    }

    @Test func driftOnAHostIsReportedAndHealed() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try await ship("331-one", setup, controller)
        try await ship("332-two", setup, controller)
        let second = try setup.repo.rev("main")

        // Someone switches h1 back by hand.
        let app = setup.hostRoots[0] + "/web"
        let older = try #require(try FileManager.default.contentsOfDirectory(atPath: app + "/revisions").sorted().first)
        try FileManager.default.removeItem(atPath: app + "/current")
        try FileManager.default.createSymbolicLink(atPath: app + "/current", withDestinationPath: "revisions/" + older)
        #expect(setup.live(0) != second)

        await controller.checkDrift()
        let drift = try #require(try controller.store.events(limit: 50).first { $0.kind == "drift.detected" })
        #expect(drift.message.contains("staging/h1") && drift.message.contains("expected \(second.prefix(12))"))
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        #expect(setup.live(0) == second && setup.served(0) == second)
        #expect(setup.live(1) == second)
    }

    @Test func aProtectedEnvironmentWaitsForAnExplicitDeploy() async throws {
        let setup = try Setup()
        let controller = try Controller(repositoryPath: setup.repo.path, state: setup.repo.state)
        try setup.repo.addSpec("341-prod", review: "auto", deployTo: "prod")
        try setup.repo.commit("Add 341")
        #expect(try await controller.runUntilIdle(deadline: .distantFuture).idle)
        #expect(try controller.store.task(id: "341-prod")?.state == .merged)
        let prod = EnvironmentRefs(repository: try Repository.open(at: setup.repo.path), environment: "prod")
        #expect(try prod.desired() == nil, "approval: deployer keeps auto_deploy from promoting")

        let trunk = try #require(ObjectID(hex: try setup.repo.rev("main")))
        try prod.move(to: trunk, expecting: nil, message: "deploy by Ada")
        let agent = DeploymentAgent(repositoryPath: setup.repo.path, store: controller.store, connections: controller.connections)
        let report = try agent.deploy(environment: "prod", commit: trunk, actor: "Ada", reason: "devsys deploy by Ada")
        #expect(report.succeeded)
        #expect(report.tag == "deploy/prod/0001")
        #expect(report.tasks == ["341-prod"])
        #expect(try controller.store.task(id: "341-prod")?.state == .deployed)
        #expect(try prod.tags().first?.fields["Actor"] == "Ada")
    }
}
