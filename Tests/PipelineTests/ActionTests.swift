import Actions
import Deploy
import Environments
import Foundation
import Git
import Hosts
import Runtime
import Store
import Testing

@testable import Pipeline

/// What people do — review, merge, retry, cancel, deploy, roll back — through the domain
/// operations the CLI and the manager API share: each takes an actor and writes its audit row,
/// refusals included.
@Suite struct ActionTests {
    static let ada = Principal(name: "Ada Lovelace <ada@example.com>", role: .developer)
    static let grace = Principal(name: "Grace Hopper <grace@example.com>", role: .deployer)
    static let viewer = Principal(name: "Vic Viewer", role: .viewer)
    static let admin = Principal(name: "Root Admin <root@example.com>", role: .admin)

    /// The audit rows for `action`, oldest first.
    static func audit(_ store: Store, _ action: String) throws -> [AuditEntry] {
        try store.audit(Store.AuditFilter(limit: 1000)).filter { $0.action == action }.reversed()
    }

    @Test func aMergeNeedsAnApprovalOfTheBranchsCurrentHead() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("201-review")
        try repo.commit("Add 201")
        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        #expect(try await controller.runUntilIdle(deadline: .now + 60).idle)
        let store = controller.store
        let actions = try controller.controlPlane
        let tested = try repo.rev("task/201-review")

        let unapproved = await #expect(throws: PipelineError.self) { try await actions.merge(taskID: "201-review", by: Self.ada) }
        #expect(unapproved?.description == "task 201-review needs an approval of its branch's head first")
        #expect(try await actions.approve(taskID: "201-review", by: Self.ada).hex == tested)
        #expect(
            try Reviews(repositoryPath: repo.path, store: store).verdicts(on: #require(ObjectID(hex: tested))).first?.hasPrefix(
                "Approved-by: Ada Lovelace <ada@example.com> at "
            ) == true
        )

        // Someone adds a commit to the approved branch before it merges.
        try repo.git("checkout", "-q", "task/201-review")
        try repo.write("app/201-review.txt", "fixed by hand\n")
        try repo.commit("Fix-up")
        try repo.git("checkout", "-q", "main")
        let fixed = try repo.rev("task/201-review")
        let moved = await #expect(throws: PipelineError.self) { try await actions.merge(taskID: "201-review", by: Self.ada) }
        #expect(moved?.description.contains("moved since it was tested") == true, "\(String(describing: moved))")
        await #expect(throws: PipelineError.self) { try await actions.approve(taskID: "201-review", by: Self.ada) }

        // Tested again and back in review: the approval of the earlier head does not count.
        #expect(try await controller.runUntilIdle(deadline: .now + 60).idle)
        let task = try #require(try store.task(id: "201-review"))
        #expect(task.state == .review && task.branchHead == fixed, "\(task)")
        await #expect(throws: PipelineError.self) { try await actions.merge(taskID: "201-review", by: Self.ada) }
        #expect(try repo.rev("main") != fixed)

        try await actions.approve(taskID: "201-review", by: Self.ada)
        guard case .merged(let commit) = try await actions.merge(taskID: "201-review", by: Self.ada) else {
            Issue.record("201-review did not merge")
            return
        }
        #expect(try repo.git("log", "-1", "--format=%an <%ae>", commit.hex) == "Ada Lovelace <ada@example.com>\n")

        let merges = try Self.audit(store, "pr.merge")
        #expect(merges.map { $0.outcome.components(separatedBy: ":").first ?? "" } == ["refused", "refused", "refused", "ok"])
        #expect(merges.map(\.target) == [tested, tested, fixed, fixed].map { "task/201-review@\($0.prefix(12))" })
        #expect(merges.allSatisfy { $0.actor == "Ada Lovelace <ada@example.com>" && $0.role == "developer" })
        #expect(try Self.audit(store, "pr.approve").map { $0.outcome.prefix(7) } == ["ok", "refused", "ok"])
    }

    @Test func everyTaskActionWritesItsAuditRowRefusalsIncluded() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("211-reject")
        try repo.addSpec("212-review")
        try repo.commit("Add the specs")
        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        #expect(try await controller.runUntilIdle(deadline: .now + 60).idle)
        let store = controller.store
        let reviews = try controller.controlPlane
        let tasks = reviews
        let head = try repo.rev("task/211-reject")

        let tooLow = await #expect(throws: ActionRefusal.self) { try await reviews.approve(taskID: "211-reject", by: Self.viewer) }
        #expect(tooLow?.description == "Vic Viewer (role viewer) may not approve task/211-reject: that needs the role developer or higher")
        try await reviews.reject(taskID: "211-reject", reason: "wrong colour", by: Self.ada)
        #expect(try store.task(id: "211-reject")?.reason == "rejected by Ada Lovelace <ada@example.com>: wrong colour")
        await #expect(throws: PipelineError.self) { try await tasks.retry(taskID: "212-review", by: Self.ada) }
        let retried = try await tasks.retry(taskID: "211-reject", by: Self.ada)
        #expect(retried.task.state == .queued && retried.step == .coding)

        // Cancelled while its coding job waits: the job ends without running the agent.
        let cancelled = try await tasks.cancel(taskID: "211-reject", reason: "superseded", by: Self.ada)
        #expect(cancelled.state == .cancelled && cancelled.reason == "cancelled by Ada Lovelace <ada@example.com>: superseded")
        await #expect(throws: ActionRefusal.cannotCancel(taskID: "211-reject", state: .cancelled)) {
            try await tasks.cancel(taskID: "211-reject", by: Self.ada)
        }
        await #expect(throws: ActionRefusal.self) { try await tasks.retry(taskID: "211-reject", by: Self.ada) }
        await #expect(throws: PipelineError.self) { try await tasks.cancel(taskID: "999-nothing", by: Self.ada) }
        #expect(try await controller.runUntilIdle(deadline: .now + 60).idle)
        #expect(try store.task(id: "211-reject")?.state == .cancelled)
        #expect(try repo.rev("task/211-reject") == head, "no new attempt was made")
        #expect(try store.events(taskID: "211-reject", limit: 100).contains { $0.kind == "task.cancelled" && $0.message.hasSuffix("superseded") })

        let rows = try store.audit(Store.AuditFilter(limit: 100)).reversed().map { "\($0.actor)|\($0.role)|\($0.action)|\($0.target)|\($0.outcome)" }
        #expect(
            rows == [
                "Vic Viewer|viewer|pr.approve|task/211-reject|refused: Vic Viewer (role viewer) may not approve task/211-reject: that needs the role developer or higher",
                "Ada Lovelace <ada@example.com>|developer|pr.reject|task/211-reject@\(head.prefix(12))|ok",
                "Ada Lovelace <ada@example.com>|developer|task.retry|task/212-review|refused: task 212-review is review; this needs it failed or rejected",
                "Ada Lovelace <ada@example.com>|developer|task.retry|task/211-reject|ok",
                "Ada Lovelace <ada@example.com>|developer|task.cancel|task/211-reject|ok",
                "Ada Lovelace <ada@example.com>|developer|task.cancel|task/211-reject|refused: task 211-reject is already cancelled",
                "Ada Lovelace <ada@example.com>|developer|task.retry|task/211-reject|refused: task 211-reject is cancelled (cancelled by Ada Lovelace <ada@example.com>: superseded); a change to specs/211-reject/task.yaml on the trunk starts it again",
                "Ada Lovelace <ada@example.com>|developer|task.cancel|task/999-nothing|refused: no task 999-nothing",
            ],
            "\(rows.joined(separator: "\n"))"
        )
    }

    @Test func deployAndRollbackCheckTheRoleMarkBadAndAuditEveryOutcome() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        let host = repo.root.appendingPathComponent("host").path
        try FileManager.default.createDirectory(atPath: host + "/web", withIntermediateDirectories: true)
        try repo.write(
            "devsys.yaml",
            """
            apps:
              web: { path: app, test: sh tests/run.sh }
            environments:
              staging: { hosts: [h1], keep_revisions: 3 }
              prod: { hosts: [h1], approval: admin }
            hosts:
              h1: { transport: local, root: \(host) }

            """
        )
        try repo.commit("Environments")
        let first = try repo.rev("main")
        try repo.write("app/index.txt", "home, again\n")
        try repo.commit("Second")
        let second = try repo.rev("main")
        try FileManager.default.createDirectory(at: repo.state.url, withIntermediateDirectories: true)
        let store = try Store(path: repo.state.storeFile)
        let repository = try Repository.open(at: repo.path)
        let environments = try ControlPlane(repositoryPath: repo.path, state: repo.state, store: store)
        let refs = EnvironmentRefs(repository: repository, environment: "staging")

        await #expect(throws: ActionRefusal.self) { try await environments.deploy(environment: "staging", by: Self.ada) }
        await #expect(throws: ActionRefusal.self) { try await environments.deploy(environment: "prod", by: Self.grace) }
        await #expect(throws: EnvironmentError.self) { try await environments.deploy(environment: "nowhere", by: Self.grace) }
        await #expect(throws: ActionRefusal.self) {
            try await environments.deploy(environment: "staging", revision: "no-such-branch", by: Self.grace)
        }
        await #expect(throws: EnvironmentError.self) { try await environments.rollback(environment: "staging", by: Self.grace) }

        #expect(try await environments.deployed(environment: "staging", revision: "main~1", by: Self.grace).tag == "deploy/staging/0001")
        #expect(try await environments.deployed(environment: "staging", by: Self.grace).tag == "deploy/staging/0002")
        let back = try await environments.rolledBack(environment: "staging", by: Self.grace)
        #expect(back.commit == first && back.tag == "deploy/staging/0003")
        #expect(try refs.desired()?.hex == first)
        let secondID = try #require(ObjectID(hex: second))
        #expect(try refs.badReason(secondID)?.contains("by Grace Hopper <grace@example.com>: rolled back to deploy/staging/0001") == true)
        await #expect(throws: EnvironmentError.self) { try await environments.deploy(environment: "staging", by: Self.grace) }
        #expect(try await environments.deployed(environment: "staging", force: true, by: Self.grace).succeeded)
        #expect(try refs.badReason(secondID) == nil)
        #expect(try await environments.deployed(environment: "prod", by: Self.admin).succeeded, "admin may deploy where approval: admin")
        let tag = try #require(try refs.tags().last)
        #expect(tag.fields["Actor"] == "Grace Hopper <grace@example.com>")
        let shown = try await environments.environments(by: Self.viewer)
        #expect(shown.map(\.name) == ["staging", "prod"])
        #expect(shown.first?.live == second && shown.first?.liveTag == "deploy/staging/0004")
        #expect(shown.first?.hosts.map { "\($0.host) \($0.deploy ?? "-") \($0.live)" } == ["h1 deploy/staging/0004 true"])

        let rows = try store.audit(Store.AuditFilter(limit: 100)).reversed().map { "\($0.actor)|\($0.role)|\($0.action)|\($0.target)|\($0.outcome)" }
        let grace = "Grace Hopper <grace@example.com>|deployer"
        let expected: [String] = [
            "Ada Lovelace <ada@example.com>|developer|deploy|env/staging|refused: Ada Lovelace <ada@example.com> (role developer) may not deploy to staging: that needs the role deployer or higher",
            "\(grace)|deploy|env/prod|refused: Grace Hopper <grace@example.com> (role deployer) may not deploy to prod: that needs the role admin or higher",
            "\(grace)|deploy|env/nowhere|refused: no environment 'nowhere' in devsys.yaml (known: staging, prod)",
            "\(grace)|deploy|env/staging|refused: cannot resolve 'no-such-branch': ",
            "\(grace)|rollback|env/staging|refused: staging has no earlier deploy to roll back to",
            "\(grace)|deploy|env/staging@\(first.prefix(12))|ok: deploy/staging/0001",
            "\(grace)|deploy|env/staging@\(second.prefix(12))|ok: deploy/staging/0002",
            "\(grace)|rollback|env/staging@deploy/staging/0001|ok: deploy/staging/0003",
            "\(grace)|deploy|env/staging@\(second.prefix(12))|refused: \(second.prefix(12)) is marked bad in staging (at ",
            "\(grace)|deploy --force|env/staging@\(second.prefix(12))|ok: deploy/staging/0004",
            "Root Admin <root@example.com>|admin|deploy|env/prod@\(second.prefix(12))|ok: deploy/prod/0001",
        ]
        // Rows 3 and 8 end with what git and the bad mark say (an error text, a time): their beginnings are compared.
        #expect(rows.count == expected.count, "\(rows.joined(separator: "\n"))")
        for (row, start) in zip(rows, expected) {
            #expect(row == start || ([expected[3], expected[8]].contains(start) && row.hasPrefix(start)), "\(row)")
        }
    }

    @Test func aDeployThatStopsBeforeAnySwitchPutsTheEnvRefBackAndAuditsTheFailure() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        let host = repo.root.appendingPathComponent("host").path
        let blocked = repo.root.appendingPathComponent("not-a-folder").path
        try FileManager.default.createDirectory(atPath: host + "/web", withIntermediateDirectories: true)
        try Data("a file where a host root should be\n".utf8).write(to: URL(fileURLWithPath: blocked))
        try repo.write(
            "devsys.yaml",
            """
            apps:
              web: { path: app, test: sh tests/run.sh }
            environments:
              staging: { hosts: [h1, h2] }
            hosts:
              h1: { transport: local, root: \(host) }
              h2: { transport: local, root: \(blocked)/root }

            """
        )
        try repo.commit("Staging on two hosts, one unusable")
        try FileManager.default.createDirectory(at: repo.state.url, withIntermediateDirectories: true)
        let store = try Store(path: repo.state.storeFile)
        let repository = try Repository.open(at: repo.path)
        let environments = try ControlPlane(repositoryPath: repo.path, state: repo.state, store: store)
        let earlier = try #require(ObjectID(hex: try repo.rev("main~1")))
        let refs = EnvironmentRefs(repository: repository, environment: "staging")
        try refs.move(to: earlier, expecting: nil, message: "test: staging starts on the earlier commit")

        let error = await #expect(throws: DeployOutcome.Failure.self) { try await environments.deployed(environment: "staging", by: Self.grace) }
        #expect(error?.code == "deploy_nothing_switched" && error?.category == .unavailable)
        #expect(
            error?.description.contains("nothing was switched; refs/heads/env/staging is back on \(earlier.short)") == true,
            "\(String(describing: error))"
        )
        #expect(try refs.desired() == earlier)
        #expect(FileManager.default.fileExists(atPath: host + "/web/current") == false, "h1 was not switched either")
        let row = try #require(try store.audit(Store.AuditFilter(limit: 1)).first)
        #expect(row.action == "deploy" && row.actor == Self.grace.name && row.role == "deployer")
        #expect(row.outcome.hasPrefix("failed: "), "\(row.outcome)")
    }

    @Test func aSubmittedSpecIsValidatedThenCommittedToTheTrunkAsTheActor() async throws {
        let repo = try PipelineRepo()
        defer { repo.remove() }
        try repo.addSpec("221-first")
        try repo.commit("Add 221")
        let controller = try Controller(repositoryPath: repo.path, state: repo.state)
        let plane = try controller.controlPlane
        let before = try repo.rev("main")
        let spec = """
            id: 222-submitted
            title: Submitted over the control plane
            kind: feature
            app: web
            story: As a product manager I want to submit a spec without a clone.
            acceptance:
              - name: accepted
                run: test -f app/222-submitted.txt
            expected_artifacts: [app/222-submitted.txt]
            related_tasks: [221-first]

            """
        let files = ["task.yaml": spec, "agent.sh": "echo done > app/222-submitted.txt\n"]

        await #expect(throws: ActionRefusal.self) { try await plane.submit(files: files, by: Self.viewer) }
        let badName = await #expect(throws: SpecSubmissionError.self) { try await plane.submit(files: ["../task.yaml": spec], by: Self.ada) }
        #expect(badName?.code == "spec_file_name_invalid")
        let unknownApp = await #expect(throws: SpecSubmissionError.self) {
            try await plane.submit(files: ["task.yaml": spec.replacingOccurrences(of: "app: web", with: "app: shop")], by: Self.ada)
        }
        #expect(unknownApp?.code == "spec_invalid" && unknownApp?.category == .invalid)
        #expect(unknownApp?.description.contains("specs/222-submitted/task.yaml:4:6: error: ") == true, "\(String(describing: unknownApp))")
        #expect(try repo.rev("main") == before, "nothing is committed while the spec is invalid")

        let submitted = try await plane.submit(files: files, by: Self.ada)
        #expect(submitted.id == "222-submitted" && submitted.trunk == "main")
        #expect(try repo.rev("main") == submitted.commit)
        let log = try repo.git("log", "-1", "--format=%an <%ae>|%P|%s", "main")
        #expect(log == "Ada Lovelace <ada@example.com>|\(before)|Add task 222-submitted: Submitted over the control plane\n")
        #expect(try repo.git("show", "main:specs/222-submitted/agent.sh") == "echo done > app/222-submitted.txt\n")
        #expect(try repo.git("ls-tree", "main", "specs/222-submitted/agent.sh").hasPrefix("100755"))
        let again = await #expect(throws: SpecSubmissionError.self) { try await plane.submit(files: files, by: Self.ada) }
        #expect(again?.code == "task_exists" && again?.category == .conflict)

        #expect(try await controller.runUntilIdle(deadline: .now + 60).idle)
        #expect(try controller.store.task(id: "222-submitted")?.state == .review)
        let outcomes = try Self.audit(controller.store, "task.submit").map { $0.outcome.components(separatedBy: ":").first ?? "" }
        #expect(outcomes == ["refused", "refused", "refused", "ok", "refused"])
    }
}
