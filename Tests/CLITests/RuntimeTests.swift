import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The controller's runtime from the operator's side: a real `devsys serve` with real script agents,
/// a bare repository pushed to with the git CLI, and a `local` host served by php -S. Lanes do not
/// wait for each other, a graceful stop costs no attempt, and random kills leave no task stuck.
@Suite(.serialized) struct RuntimeTests {
    /// A team's bare repository whose staging environment is one local host behind php -S.
    final class Site {
        let team: PipelineStoryTests.Team
        let hostRoot: String
        let server: PHPServer
        var traces: String { team.traces.path }

        init(codingParallel: Int = 1, autoDeploy: Bool = false) throws {
            team = try PipelineStoryTests.Team()
            hostRoot = team.scratch.path("host")
            try FileManager.default.createDirectory(atPath: hostRoot + "/blog", withIntermediateDirectories: true)
            server = try PHPServer(appRoot: hostRoot + "/blog")
            try team.scratch.write(
                "blog/devsys.yaml",
                """
                apps:
                  blog: { path: app, test: php tests/run.php }
                environments:
                  staging: { hosts: [dev1], auto_deploy: \(autoDeploy), keep_revisions: 10 }
                hosts:
                  dev1: { transport: local, root: \(hostRoot), url: "\(server.url)" }
                agents:
                  coding: { kind: script, parallel: \(codingParallel), writable: [\(team.traces.path)] }
                  testing: { parallel: 2, writable: [\(team.traces.path)] }

                """
            )
            try push("Staging on a local host")
        }

        deinit { server.stop() }

        /// Commits everything in the clone and pushes it; returns the new trunk commit.
        @discardableResult
        func push(_ message: String) throws -> String {
            try git("add", "-A", in: team.clone)
            try git("commit", "-q", "-m", message, in: team.clone)
            let push = try gitResult("push", "-q", "origin", "main", in: team.clone)
            try #require(push.status == 0, "push failed: \(push.stderr)")
            return try git("rev-parse", "HEAD", in: team.clone).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Pushes a spec whose agent is `agent`, with extra spec lines.
        func pushSpec(_ id: String, agent: String, extra: String = "", acceptance: String = "php tests/run.php") throws {
            try team.scratch.write(
                "blog/specs/\(id)/task.yaml",
                """
                id: \(id)
                title: Task \(id)
                kind: feature
                app: blog
                story: As a reader I want \(id) so that the test has something to check.
                acceptance:
                  - name: unit tests
                    run: \(acceptance)
                expected_artifacts: [app/\(id).php]
                retry_policy: { max_attempts: 3, backoff_s: 0, max_backoff_s: 0 }
                \(extra)
                """
            )
            try team.scratch.write("blog/specs/\(id)/agent.sh", agent)
            try push("Add task \(id)")
        }

        func devsys(_ arguments: String...) throws -> CommandResult {
            try run(devsysBinary, arguments + ["--repo", team.bare.path])
        }

        /// The task's state; empty while the controller has not seen it yet.
        func state(of id: String) throws -> String {
            let show = try devsys("task", "show", id, "--json")
            struct Shown: Decodable { var state: String }
            return show.status == 0 ? try JSONDecoder().decode(Shown.self, from: Data(show.stdout.utf8)).state : ""
        }

        /// `devsys serve` on the bare repository, logging to a file, in a process group of its own.
        func serve(_ extra: [String] = []) throws -> ChildProcess {
            try ChildProcess(
                devsysBinary,
                ["serve", "--repo", team.bare.path, "--poll", "0.5"] + extra,
                environment: commandEnvironment,
                output: .log(team.scratch.path("serve.log")),
                ownProcessGroup: true
            )
        }

        var serveLog: String { (try? String(contentsOfFile: team.scratch.path("serve.log"), encoding: .utf8)) ?? "" }

        /// What the host serves at /REVISION.
        var served: String? {
            let response = PlainHTTP.get(server.url + "/REVISION")
            return response.status == 200 ? response.body.trimmingCharacters(in: .whitespacesAndNewlines) : nil
        }

        func exists(_ trace: String) -> Bool { FileManager.default.fileExists(atPath: "\(traces)/\(trace)") }

        func touch(_ trace: String) { _ = FileManager.default.createFile(atPath: "\(traces)/\(trace)", contents: nil) }
    }

    /// An agent that says it started, waits for `release` (at most a minute), then writes its page.
    static func blockingAgent(_ id: String, traces: String, release: String) -> String {
        """
        echo $$ > "\(traces)/\(id).running"
        i=0; while [ ! -e "\(traces)/\(release)" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
        cat > app/\(id).php <<'PHP'
        \(PipelineStoryTests.page(id, good: true))
        PHP
        touch "\(traces)/\(id).done"
        """
    }

    /// Polls `condition` every 50 ms until it holds or `limit` passes on the monotonic clock.
    static func eventually(within limit: Duration = .seconds(60), _ condition: () throws -> Bool) rethrows -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    @Test func aRollbackPushedWithGitGoesLiveWhileTwoCodingAgentsWork() throws {
        let site = try Site(codingParallel: 2)
        // Two deploys to roll back between.
        #expect(try site.devsys("deploy", "staging").status == 0)
        let first = try git("rev-parse", "HEAD", in: site.team.clone).trimmingCharacters(in: .whitespacesAndNewlines)
        try site.team.scratch.write("blog/app/second.php", PipelineStoryTests.page("second", good: true))
        let second = try site.push("A second version")
        #expect(try site.devsys("deploy", "staging").status == 0)
        #expect(site.served == second)

        // A third task whose tests run only once both slow agents are working, then merges (review: auto).
        let traces = site.traces
        try site.pushSpec(
            "023-quick",
            agent: "cat > app/023-quick.php <<'PHP'\n\(PipelineStoryTests.page("023-quick", good: true))\nPHP\n",
            extra: "review: auto",
            acceptance:
                "sh -c 'i=0; while ! [ -e \(traces)/021-slow-a.running -a -e \(traces)/021-slow-b.running ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done'"
        )
        let serve = try site.serve()
        defer { serve.stop(signal: SIGKILL) }
        #expect(try Self.eventually { try site.state(of: "023-quick") == "testing" }, "\(site.serveLog)")
        try site.pushSpec("021-slow-a", agent: Self.blockingAgent("021-slow-a", traces: traces, release: "release"))
        try site.pushSpec("021-slow-b", agent: Self.blockingAgent("021-slow-b", traces: traces, release: "release"))
        #expect(
            Self.eventually { site.exists("021-slow-a.running") && site.exists("021-slow-b.running") },
            "both agents run at once: \(site.serveLog)"
        )

        // Tests and a merge while both coding slots are taken.
        #expect(try Self.eventually { try site.state(of: "023-quick") == "merged" }, "\(site.serveLog)")
        #expect(!site.exists("021-slow-a.done") && !site.exists("021-slow-b.done"))

        // The emergency rollback, with plain git.
        let clock = ContinuousClock()
        let pushed = clock.now
        let rollback = try gitResult("push", "-q", "--force", "origin", "\(first):refs/heads/env/staging", in: site.team.clone)
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(Self.eventually { site.served == first }, "the rollback went live: \(site.serveLog)")
        let live = clock.now - pushed
        print("rollback pushed → live with two busy coding agents: \(live)")
        #expect(!site.exists("021-slow-a.done") && !site.exists("021-slow-b.done"), "live before either agent finished")

        site.touch("release")
        #expect(try Self.eventually { try site.state(of: "021-slow-a") == "review" && site.state(of: "021-slow-b") == "review" }, "\(site.serveLog)")
        serve.stop(signal: SIGTERM)
        #expect(serve.wait().status == 0, "\(site.serveLog)")
    }

    @Test func aPersonsDeployAndAnEnvRefPushBesideServeDeployOneAtATimeInOrder() throws {
        let site = try Site()
        let first = try git("rev-parse", "HEAD", in: site.team.clone).trimmingCharacters(in: .whitespacesAndNewlines)
        try site.team.scratch.write("blog/app/second.php", PipelineStoryTests.page("second", good: true))
        let second = try site.push("A second version")
        let serve = try site.serve()
        defer { serve.stop(signal: SIGKILL) }
        #expect(Self.eventually { site.serveLog.contains("serving ") }, "\(site.serveLog)")

        // A person deploys the first commit; the moment it is promoted, someone pushes the second to the env ref.
        let deploy = try ChildProcess(
            devsysBinary,
            ["deploy", "staging", "--rev", first, "--repo", site.team.bare.path, "--as", "Ada Lovelace <ada@example.com>"],
            environment: commandEnvironment,
            output: .log(site.team.scratch.path("deploy.log"))
        )
        let envRef = {
            try? gitResult("rev-parse", "--verify", "-q", "refs/heads/env/staging", in: site.team.bare).stdout.trimmingCharacters(
                in: .whitespacesAndNewlines
            )
        }
        #expect(Self.eventually { envRef() == first }, "\(site.serveLog)")
        let push = try gitResult("push", "-q", "origin", "\(second):refs/heads/env/staging", in: site.team.clone)
        #expect(push.status == 0, "\(push.stderr)")

        let ended = deploy.wait()
        let output = (try? String(contentsOfFile: site.team.scratch.path("deploy.log"), encoding: .utf8)) ?? ""
        #expect(ended.status == 0, "\(output)\n\(site.serveLog)")
        #expect(output.contains("deployed \(first.prefix(12)) to staging as deploy/staging/0001"), "\(output)")
        let following = ["deploy of \(first.prefix(12)) to staging runs on ", "deploy of \(first.prefix(12)) to staging waits in the deploy lane"]
        #expect(following.contains { output.contains($0) }, "the command says where its deploy is: \(output)")
        // The push is deployed after the person's deploy: both are tags, in order.
        let tags = { try? git("for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags/deploy/staging", in: site.team.bare) }
        #expect(
            Self.eventually { tags() == "deploy/staging/0001 \(first)\ndeploy/staging/0002 \(second)\n" },
            "\(tags() ?? "")\n\(site.serveLog)"
        )
        #expect(site.served == second)

        // Each deploy ran once; each is audited with who asked.
        struct Row: Decodable {
            var actor: String
            var action: String
            var target: String
            var outcome: String
        }
        let audit = try site.devsys("audit", "--json", "--action", "deploy")
        let rows = try JSONDecoder().decode([Row].self, from: Data(audit.stdout.utf8)).reversed().map { "\($0.actor)|\($0.target)|\($0.outcome)" }
        #expect(
            rows == [
                "Ada Lovelace <ada@example.com>|env/staging@\(first.prefix(12))|ok: deploy/staging/0001",
                "devsys|env/staging@\(second.prefix(12))|ok: deploy/staging/0002",
            ],
            "\(rows)"
        )
        let events = try site.devsys("events", "--json", "--limit", "1000").stdout
        #expect(events.components(separatedBy: "\"deploy.succeeded\"").count - 1 == 2, "two deploys, neither run twice: \(events)")
        serve.stop(signal: SIGTERM)
        #expect(serve.wait().status == 0, "\(site.serveLog)")
    }

    @Test func aGracefulStopMidCodingCostsNoAttempt() throws {
        let site = try Site()
        try site.pushSpec("031-stopped", agent: Self.blockingAgent("031-stopped", traces: site.traces, release: "go"))
        let serve = try site.serve(["--grace", "0.5"])
        defer { serve.stop(signal: SIGKILL) }
        #expect(Self.eventually { site.exists("031-stopped.running") }, "\(site.serveLog)")
        // The pid the agent wrote is its pid inside its sandbox; outside it is found by its command line.
        #expect(!SandboxTests.running("031-stopped/agent.sh").isEmpty, "the agent runs")

        serve.stop(signal: SIGTERM)
        #expect(serve.wait().status == 0, "serve stops cleanly on SIGTERM: \(site.serveLog)")
        #expect(SandboxTests.running("031-stopped/agent.sh").isEmpty, "the agent was stopped with the controller")
        #expect(site.serveLog.contains("leases go back uncounted"), "\(site.serveLog)")
        #expect(try site.state(of: "031-stopped") == "coding", "the task waits, its job back in the queue")

        site.touch("go")
        let run = try site.devsys("run", "--until-idle", "--timeout", "120")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try site.state(of: "031-stopped") == "review")
        #expect(try site.team.branchLog("031-stopped") == ["Task 031-stopped (attempt 1)|1"], "the stopped attempt did not count")
    }

    @Test func aTaskCancelledWhileItsAgentWorksStaysCancelled() throws {
        let site = try Site()
        try site.pushSpec("061-cancelled", agent: Self.blockingAgent("061-cancelled", traces: site.traces, release: "go"))
        let serve = try site.serve()
        defer { serve.stop(signal: SIGKILL) }
        #expect(Self.eventually { site.exists("061-cancelled.running") }, "\(site.serveLog)")
        let cancel = try site.devsys("task", "cancel", "061-cancelled", "--reason", "not needed after all")
        #expect(cancel.status == 0, "\(cancel.stderr)")
        site.touch("go")
        #expect(Self.eventually { site.exists("061-cancelled.done") })
        // The agent's commit lands on the branch; the task is not brought back to life by it.
        #expect(Self.eventually { (try? site.team.branchLog("061-cancelled").count) == 1 }, "\(site.serveLog)")
        #expect(try site.state(of: "061-cancelled") == "cancelled")
        serve.stop(signal: SIGTERM)
        #expect(serve.wait().status == 0)
    }

    @Test func aReconcileErrorIsLoggedAndRetriedWhileServeKeepsRunning() throws {
        let site = try Site()
        let trunk = try git("rev-parse", "main", in: site.team.bare).trimmingCharacters(in: .whitespacesAndNewlines)
        let serve = try site.serve()
        defer { serve.stop(signal: SIGKILL) }
        #expect(Self.eventually { site.serveLog.contains("serving") }, "\(site.serveLog)")

        // The trunk disappears (a botched force push): every pass fails until it is back.
        try git("update-ref", "-d", "refs/heads/main", in: site.team.bare)
        _ = try run(devsysBinary, ["notify", "--repo", site.team.bare.path])
        #expect(Self.eventually { site.serveLog.contains("reconcile failed") }, "\(site.serveLog)")
        #expect(!serve.hasExited, "serve keeps running")

        try git("update-ref", "refs/heads/main", trunk, in: site.team.bare)
        try site.pushSpec("051-after", agent: "cat > app/051-after.php <<'PHP'\n\(PipelineStoryTests.page("051-after", good: true))\nPHP\n")
        #expect(try Self.eventually { try site.state(of: "051-after") == "review" }, "work goes on once the trunk is back: \(site.serveLog)")
        serve.stop(signal: SIGTERM)
        #expect(serve.wait().status == 0)
    }

    @Test func thirtyKillsAtRandomMomentsLeaveNoTaskStuck() throws {
        let site = try Site(autoDeploy: true)
        let ids = ["041-one", "042-two", "043-three", "044-four"]
        for id in ids {
            try site.pushSpec(
                id,
                agent: "sleep 0.3\ncat > app/\(id).php <<'PHP'\n\(PipelineStoryTests.page(id, good: true))\nPHP\n",
                extra: "review: auto\ndeploy: { env: staging }"
            )
        }
        var random = SeededGenerator(seed: 0x6465_7673)
        for _ in 0..<30 {
            let serve = try site.serve()
            usleep(UInt32(100_000 + random.next() % 600_000))
            serve.stop(signal: SIGKILL)  // the whole group: the controller and the agents it ran
            _ = serve.wait()
        }
        let run = try site.devsys("run", "--until-idle", "--timeout", "300")
        #expect(run.stderr.contains("run: idle"), "\(run.stderr)")

        let final: Set<String> = ["review", "merged", "deployed", "failed"]
        for id in ids {
            let state = try site.state(of: id)
            #expect(final.contains(state), "\(id) is \(state) with nothing queued")
            if state == "failed" {
                print("\(id) failed after the kills: \(try site.devsys("task", "show", id).stdout)")
                let retry = try site.devsys("task", "retry", id)
                #expect(retry.status == 0, "a failed task can be retried: \(retry.stderr)")
            }
        }
        // Whatever the kills failed comes through on retry.
        _ = try site.devsys("run", "--until-idle", "--timeout", "300")
        for id in ids {
            let state = try site.state(of: id)
            let show = state == "deployed" || state == "merged" ? "" : try site.devsys("task", "show", id).stdout
            #expect(state == "deployed" || state == "merged", "\(id) ends \(state)\n\(show)")
        }
    }
}
