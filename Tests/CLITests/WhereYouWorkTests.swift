import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The CLI from where people work: a clone of the bare control repository a controller runs on.
/// Every command finds the control repository (its origin) and its state; `--repo` and
/// `DEVSYS_REPO` point elsewhere; with no state anywhere, read commands say so and create nothing.
/// Then `status` and `events`, read from the clone.
@Suite struct WhereYouWorkTests {
    /// `devsys init --bare blog.git`, a controller run on it, and `git clone blog.git blog`.
    struct Team {
        let scratch: Scratch
        var bare: URL { scratch.url.appendingPathComponent("blog.git") }
        var clone: URL { scratch.url.appendingPathComponent("blog") }

        init(runController: Bool = true) throws {
            scratch = try Scratch()
            #expect(try devsys("init", "--bare", scratch.path("blog.git")).status == 0)
            if runController { try runUntilIdle() }
            try git("clone", "-q", bare.path, clone.path, in: scratch.url)
        }

        /// Runs the controller until idle; a run in which a task failed exits 1, as `failing` expects.
        func runUntilIdle(failing: Bool = false) throws {
            let run = try devsys("run", "--until-idle", "--timeout", "60", "--repo", bare.path)
            try #require(run.status == (failing ? 1 : 0), "run --until-idle exited \(run.status): \(run.stderr)")
        }

        /// devsys in the clone (or `folder`), with `environment` added to the tests' own.
        @discardableResult
        func devsysInClone(_ arguments: String..., folder: String? = nil, environment: [String: String] = [:]) throws -> CommandResult {
            try run(
                devsysBinary,
                arguments,
                in: folder.map { clone.appendingPathComponent($0) } ?? clone,
                environment: commandEnvironment.merging(environment) { $1 }
            )
        }

        func json<T: Decodable>(_ type: T.Type, _ arguments: String...) throws -> T {
            let result = try run(devsysBinary, arguments, in: clone)
            try #require(result.status == 0, "devsys \(arguments.joined(separator: " ")): \(result.stderr)")
            return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
        }

        func rev(_ revision: String, in repository: URL) throws -> String {
            try git("rev-parse", "--verify", revision, in: repository).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Commits `files` in the clone and pushes them to the control repository.
        func push(_ files: [String: String], message: String) throws {
            for (path, text) in files { try scratch.write("blog/\(path)", text) }
            try git("add", "-A", in: clone)
            try git("commit", "-q", "-m", message, in: clone)
            let push = try gitResult("push", "-q", "origin", "main", in: clone)
            try #require(push.status == 0, "push failed: \(push.stderr)")
        }
    }

    struct ListedTask: Decodable {
        var id: String
        var state: String
        var branchHead: String?
    }

    /// Whether no state folder was made in `gitDirectory`.
    func noStateCreated(_ gitDirectory: URL) -> Bool {
        !FileManager.default.fileExists(atPath: gitDirectory.appendingPathComponent("devsys").path)
    }

    // MARK: Finding the control repository

    @Test func fromACloneTasksAndTaskShowReadTheControlRepository() throws {
        let team = try Team()
        let head = try team.rev("task/001-about-page", in: team.bare)

        let table = try team.devsysInClone("tasks")
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("001-about-page  review  1/3      \(head.prefix(12))"), "\(table.stdout)")
        let listed = try team.json([ListedTask].self, "tasks", "--json")
        #expect(listed.map(\.id) == ["001-about-page"] && listed.first?.branchHead == head)

        let show = try team.devsysInClone("task", "show", "001-about-page")
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("state    review"), "\(show.stdout)")
        #expect(show.stdout.contains("tests    passed at \(head.prefix(12))"), "\(show.stdout)")
        let fromSubfolder = try team.devsysInClone("tasks", folder: "specs")
        #expect(fromSubfolder.stdout.contains("001-about-page  review"), "\(fromSubfolder.stdout) \(fromSubfolder.stderr)")
        #expect(noStateCreated(team.clone.appendingPathComponent(".git")), "the clone got no store of its own")

        // A file:// URL names a repository on this machine too.
        try git("clone", "-q", "file://\(team.bare.path)", team.scratch.path("by-url"), in: team.scratch.url)
        let byURL = try run(devsysBinary, ["tasks"], in: team.scratch.url.appendingPathComponent("by-url"))
        #expect(byURL.status == 0 && byURL.stdout.contains("001-about-page  review"), "\(byURL.stderr)")

        // Commands that work on the clone's own files and hooks still do.
        let validate = try team.devsysInClone("validate", "specs/001-about-page")
        #expect(validate.status == 0, "\(validate.stdout) \(validate.stderr)")
        let hooks = try team.devsysInClone("hooks", "install", "--force")
        #expect(hooks.status == 0 && hooks.stdout.contains(team.clone.appendingPathComponent(".git/hooks/pre-commit").path), "\(hooks.stdout)")
    }

    @Test func devsysRepoAndRepoPointElsewhereAndRepoComesFirst() throws {
        let team = try Team()
        let outside = team.scratch.url
        let byVariable = try run(
            devsysBinary,
            ["tasks"],
            in: outside,
            environment: commandEnvironment.merging(["DEVSYS_REPO": team.bare.path]) { $1 }
        )
        #expect(byVariable.status == 0 && byVariable.stdout.contains("001-about-page  review"), "\(byVariable.stderr)")
        let byOption = try run(devsysBinary, ["task", "show", "001-about-page", "--repo", team.bare.path], in: outside)
        #expect(byOption.status == 0 && byOption.stdout.contains("state    review"), "\(byOption.stderr)")
        let both = try run(
            devsysBinary,
            ["tasks", "--repo", team.bare.path],
            in: outside,
            environment: commandEnvironment.merging(["DEVSYS_REPO": team.scratch.path("nowhere")]) { $1 }
        )
        #expect(both.status == 0 && both.stdout.contains("001-about-page"), "--repo comes before DEVSYS_REPO: \(both.stderr)")

        let wrongVariable = try team.devsysInClone("tasks", environment: ["DEVSYS_REPO": team.scratch.path("nowhere")])
        #expect(wrongVariable.status == 1)
        #expect(
            wrongVariable.stderr.contains("\(team.scratch.path("nowhere")) (from DEVSYS_REPO) is not a git repository"),
            "\(wrongVariable.stderr)"
        )

        // --repo names the repository exactly: the clone itself has no state.
        let clone = try team.devsysInClone("tasks", "--repo", team.clone.path)
        #expect(clone.status == 1)
        #expect(clone.stderr.contains("no devsys state found") && clone.stderr.contains("\(team.clone.path) (from --repo)"), "\(clone.stderr)")
        #expect(noStateCreated(team.clone.appendingPathComponent(".git")))
    }

    @Test func withoutStateReadCommandsSaySoExitOneAndCreateNothing() throws {
        let scratch = try Scratch()
        let outside = try devsys("tasks", in: scratch.url)
        #expect(outside.status == 1)
        #expect(outside.stderr.contains("\(scratch.url.path) is not a git repository, nor is any folder above it"), "\(outside.stderr)")
        #expect(outside.stderr.contains("--repo DIR or DEVSYS_REPO=DIR"), "\(outside.stderr)")

        let plain = scratch.url.appendingPathComponent("plain")
        try git("init", "-q", plain.path, in: scratch.url)
        for command in [["tasks"], ["task", "show", "001-about-page"], ["status"], ["events"], ["pr", "list"], ["report", "001-about-page"]] {
            let result = try run(devsysBinary, command, in: plain)
            #expect(result.status == 1, "\(command): \(result.stdout)")
            #expect(
                result.stderr.contains("no devsys state found. Looked at: \(plain.path) (the repository around the working directory)"),
                "\(result.stderr)"
            )
            #expect(result.stderr.contains("--repo DIR or DEVSYS_REPO=DIR"), "\(result.stderr)")
        }
        #expect(noStateCreated(plain.appendingPathComponent(".git")))
        let elsewhere = try devsys("tasks", "--state", scratch.path("state"), in: plain)
        #expect(elsewhere.status == 1 && elsewhere.stderr.contains("--state \(scratch.path("state"))"), "\(elsewhere.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("state")))

        // A clone of a bare repository no controller ran on: the error names the bare one.
        let team = try Team(runController: false)
        let fresh = try team.devsysInClone("tasks")
        #expect(fresh.status == 1)
        #expect(fresh.stderr.contains("\(team.bare.path) (the origin of the clone \(team.clone.path)): no devsys state"), "\(fresh.stderr)")
        #expect(noStateCreated(team.bare) && noStateCreated(team.clone.appendingPathComponent(".git")))

        // A clone of a work tree without state: the origin is passed over, and the error says why.
        try git("clone", "-q", team.clone.path, team.scratch.path("second"), in: team.scratch.url)
        let second = try run(devsysBinary, ["status"], in: team.scratch.url.appendingPathComponent("second"))
        #expect(second.status == 1)
        #expect(second.stderr.contains("origin \(team.clone.path) is a work tree without devsys state"), "\(second.stderr)")
    }

    @Test func helpSaysWhichRepositoryEachKindOfCommandUses() throws {
        let root = try devsys("--help")
        #expect(root.status == 0 && root.stdout.contains("devsys status") && root.stdout.contains("devsys events --follow"))
        #expect(root.stdout.contains("--repo DIR, else $DEVSYS_REPO"), "\(root.stdout)")
        // Help text wraps at the terminal's width: compare it with its lines joined.
        func flat(_ text: String) -> String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        #expect(flat(try devsys("tasks", "--help").stdout).contains("Default: $DEVSYS_REPO, else the repository around the working directory"))
        #expect(flat(try devsys("validate", "--help").stdout).contains("in a clone, the clone itself; DEVSYS_REPO is not read"))
        #expect(try devsys("status", "--help").stdout.contains("--hosts"))
        let events = try devsys("events", "--help").stdout
        #expect(events.contains("--follow") && events.contains("--limit") && events.contains("JSON lines"), "\(events)")
    }

    // MARK: status and events

    /// A team whose staging host is served by php -S, a task that failed, one deployed to staging.
    final class Busy {
        let team: Team
        let server: PHPServer

        init() throws {
            team = try Team()
            let hostRoot = team.scratch.path("host")
            try FileManager.default.createDirectory(atPath: hostRoot + "/blog", withIntermediateDirectories: true)
            server = try PHPServer(appRoot: hostRoot + "/blog")
            try team.push(
                [
                    "devsys.yaml": """
                    apps:
                      blog: { path: app, test: php tests/run.php }
                    environments:
                      staging: { hosts: [dev1] }
                    hosts:
                      dev1: { transport: local, root: \(hostRoot), url: "\(server.url)" }

                    """,
                    "specs/003-broken/task.yaml": """
                    id: 003-broken
                    title: A task whose check never passes
                    kind: feature
                    app: blog
                    story: As a reader I want 003-broken so that the test has something to fail.
                    acceptance:
                      - name: never
                        run: 'false'
                    expected_artifacts: [app/003-broken.txt]
                    retry_policy: { max_attempts: 1, backoff_s: 0, max_backoff_s: 0 }

                    """,
                    "specs/003-broken/agent.sh": "echo broken > app/003-broken.txt\n",
                ],
                message: "Staging on a local host; a task that fails"
            )
            try team.runUntilIdle(failing: true)
            let deploy = try team.devsysInClone("deploy", "staging")
            try #require(deploy.status == 0, "deploy failed: \(deploy.stdout) \(deploy.stderr)")
        }

        deinit { server.stop() }
    }

    struct StatusJSON: Decodable {
        struct Tasks: Decodable {
            var total: Int
            var counts: [String: Int]
            var ids: [String: [String]]
        }

        struct Environment: Decodable {
            struct Host: Decodable {
                var host: String
                var deploy: String?
                var live: Bool
            }

            var name: String
            var desired: String?
            var live: String?
            var liveTag: String?
            var pending: Bool
            var hosts: [Host]
        }

        struct Jobs: Decodable {
            var pending: Int
            var running: Int
            var dead: Int
            var done: Int
        }

        struct LastError: Decodable {
            var taskID: String?
            var kind: String
            var message: String
        }

        struct HostState: Decodable {
            var host: String
            var liveCommit: String?
        }

        var repository: String
        var tasks: Tasks
        var environments: [Environment]
        var jobs: Jobs
        var lastError: LastError?
        var hostStates: [String: [HostState]]?
    }

    @Test func statusShowsTasksByStateTheLiveDeployPerHostTheQueueAndTheLastError() throws {
        let busy = try Busy()
        let team = busy.team
        let trunk = try team.rev("main", in: team.bare)

        let text = try team.devsysInClone("status")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("control repository: \(team.bare.path) (the origin of the clone \(team.clone.path))\n"), "\(text.stdout)")
        #expect(text.stdout.contains("tasks: 2\n"), "\(text.stdout)")
        #expect(text.stdout.contains("  review  1  001-about-page\n"), "\(text.stdout)")
        #expect(text.stdout.contains("  failed  1  003-broken\n"), "\(text.stdout)")
        #expect(text.stdout.contains("  staging: live deploy/staging/0001 \(trunk.prefix(12)) since "), "\(text.stdout)")
        #expect(text.stdout.contains("    dev1  deploy/staging/0001  live\n"), "\(text.stdout)")
        #expect(text.stdout.contains("jobs: 0 pending, 0 running, "), "\(text.stdout)")
        #expect(text.stdout.contains(#/\nlast error: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 003-broken (task\.state|tests\.failed): /#), "\(text.stdout)")

        let status = try team.json(StatusJSON.self, "status", "--json")
        #expect(status.repository == team.bare.path)
        #expect(
            status.tasks.total == 2 && status.tasks.counts["review"] == 1 && status.tasks.counts["failed"] == 1 && status.tasks.counts["queued"] == 0
        )
        #expect(status.tasks.ids["failed"] == ["003-broken"])
        let staging = try #require(status.environments.first { $0.name == "staging" })
        #expect(staging.desired == trunk && staging.live == trunk && staging.liveTag == "deploy/staging/0001" && !staging.pending)
        #expect(staging.hosts.map(\.host) == ["dev1"] && staging.hosts.first?.live == true && staging.hosts.first?.deploy == "deploy/staging/0001")
        #expect(status.jobs.pending == 0 && status.jobs.running == 0 && status.jobs.done >= 3, "\(status.jobs)")
        // The task's failure: its failing tests, or the transition to failed after them.
        #expect(status.lastError?.taskID == "003-broken", "\(String(describing: status.lastError))")
        #expect(["task.state", "tests.failed"].contains(status.lastError?.kind ?? ""), "\(String(describing: status.lastError))")
        #expect(status.hostStates == nil)

        let asked = try team.json(StatusJSON.self, "status", "--json", "--hosts")
        #expect(asked.hostStates?["staging"]?.map(\.host) == ["dev1"])
        #expect(asked.hostStates?["staging"]?.first?.liveCommit == trunk)
        let askedText = try team.devsysInClone("status", "--hosts")
        #expect(askedText.stdout.contains("    asked dev1/blog: serves 0001-\(trunk.prefix(12))\n"), "\(askedText.stdout)")
    }

    struct EventLine: Decodable {
        var id: Int
        var at: String
        var task: String?
        var kind: String
        var message: String
        var data: [String: String]
    }

    static func lines(_ text: String) -> [EventLine] {
        text.split(separator: "\n").compactMap { try? JSONDecoder().decode(EventLine.self, from: Data($0.utf8)) }
    }

    @Test func eventsPrintTheLogOldestFirstAsTextAndJSONLines() throws {
        let busy = try Busy()
        let team = busy.team

        let all = try team.devsysInClone("events", "--json")
        #expect(all.status == 0, "\(all.stderr)")
        let events = Self.lines(all.stdout)
        #expect(events.count == all.stdout.split(separator: "\n").count, "every line is one JSON object: \(all.stdout)")
        #expect(events.map(\.id) == events.map(\.id).sorted() && Set(events.map(\.id)).count == events.count, "oldest first")
        #expect(events.contains { $0.kind == "deploy.succeeded" && $0.task == nil && $0.data["env"] == "staging" })
        #expect(events.contains { $0.kind == "task.state" && $0.task == "003-broken" && $0.data["to"] == "failed" })

        let latestTwo = Self.lines(try team.devsysInClone("events", "--json", "--limit", "2").stdout)
        #expect(latestTwo.map(\.id) == events.suffix(2).map(\.id))

        let broken = try team.devsysInClone("events", "--task", "003-broken")
        #expect(broken.status == 0)
        let brokenLines = broken.stdout.split(separator: "\n")
        #expect(!brokenLines.isEmpty && brokenLines.allSatisfy { $0.contains("  003-broken  ") }, "\(broken.stdout)")
        #expect(broken.stdout.contains("  003-broken  task.state  testing → failed"), "\(broken.stdout)")
    }

    @Test(.timeLimit(.minutes(2)))
    func eventsFollowPrintsAnEventAppendedAfterItStarted() throws {
        let team = try Team()
        let log = team.scratch.path("follow.log")
        let follower = try ChildProcess(
            devsysBinary,
            ["events", "--follow", "--json", "--limit", "1"],
            environment: commandEnvironment,
            output: .log(log),
            directory: team.clone.path,
            closeInheritedDescriptors: true
        )
        func printed() -> [EventLine] { Self.lines((try? String(contentsOfFile: log, encoding: .utf8)) ?? "") }
        try waitFor("the latest event to be printed at the start") { printed().count == 1 || follower.hasExited }
        let before = printed()

        let reject = try team.devsysInClone("pr", "reject", "001-about-page", "--reason", "the page needs a photo")
        try #require(reject.status == 0, "\(reject.stderr)")
        try waitFor("the rejection to be followed") {
            follower.hasExited || printed().contains { $0.kind == "task.state" && $0.task == "001-about-page" && $0.data["to"] == "rejected" }
        }
        let after = printed()
        #expect(after.first?.id == before.first?.id && after.count > before.count)
        #expect(after.map(\.id) == after.map(\.id).sorted() && Set(after.map(\.id)).count == after.count, "each event once, in order")

        follower.stop(signal: SIGTERM)
        #expect(follower.wait().status == 0, "SIGTERM ends --follow quietly")
    }
}
