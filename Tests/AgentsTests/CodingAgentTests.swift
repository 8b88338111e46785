import Agents
import Foundation
import Git
import Processes
import Specs
import Testing

@Suite("Coding agent")
struct CodingAgentTests {
    /// Dumps what the agent sees to $OUT (outside the checkout), then writes the About page.
    static let recordingScript = """
        {
          echo "task=$DEVSYS_TASK_ID"
          echo "spec_dir=$DEVSYS_SPEC_DIR"
          echo "prompt_file=$DEVSYS_PROMPT_FILE"
          echo "feedback_file=$DEVSYS_FEEDBACK_FILE"
          echo "attempt=$DEVSYS_ATTEMPT"
          echo "pwd=$PWD"
          test -f "$DEVSYS_SPEC_DIR/task.yaml" && echo "spec_dir_has_task_yaml"
          echo "secret=${DEVSYS_TEST_SECRET:-unset}"
        } > "$OUT/env-$DEVSYS_ATTEMPT.txt"
        cp "$DEVSYS_FEEDBACK_FILE" "$OUT/feedback-$DEVSYS_ATTEMPT.txt"
        cp "$DEVSYS_PROMPT_FILE" "$OUT/prompt-$DEVSYS_ATTEMPT.txt"
        echo "<h1>About (take $DEVSYS_ATTEMPT)</h1>" > app/about.php
        """

    @Test("a script agent's change becomes one commit on task/<id> with Task and Attempt trailers")
    func scriptAgentCommits() async throws {
        let fixture = try ControlRepoFixture(agentScript: Self.recordingScript)
        defer { fixture.remove() }
        setenv("DEVSYS_TEST_SECRET", "hunter2", 1)

        let outcome = try await CodingAgent().attempt(fixture.codingRequest())

        let commit = try #require(outcome.committedID, "\(outcome)")
        #expect(outcome == .committed(commit, changedPaths: ["app/about.php"]))
        #expect(try fixture.branchHead() == commit)
        #expect(try fixture.git(["rev-parse", "task/\(ControlRepoFixture.taskID)^"]) == fixture.head.hex)
        #expect(try fixture.git(["show", "task/\(ControlRepoFixture.taskID):app/about.php"]) == "<h1>About (take 1)</h1>")
        let message = try fixture.git(["log", "-1", "--format=%B", commit.hex])
        #expect(message.hasPrefix("Add an About page (attempt 1)\n\n"))
        let trailers = try Shell.run(
            ["/bin/sh", "-c", "git log -1 --format=%B \(commit.hex) | git interpret-trailers --parse"],
            in: fixture.repository
        )
        #expect(trailers.stdout == "Task: 001-about-page\nAttempt: 1")
        #expect(
            try fixture.git(["log", "-1", "--format=%an <%ae>|%cn <%ce>", commit.hex])
                == "devsys coding agent <coding-agent@devsys.invalid>|devsys coding agent <coding-agent@devsys.invalid>"
        )

        let env = try fixture.readOutside("env-1.txt")
        // Each try of an attempt has a checkout of its own: checkout-<attempt>-<token>.
        let pwd = env.split(separator: "\n").first { $0.hasPrefix("pwd=") }.map { String($0.dropFirst(4)) } ?? ""
        #expect(pwd.hasPrefix(fixture.scratch.appendingPathComponent("checkout-1-").path), "\(pwd)")
        let checkout = pwd
        #expect(env.contains("task=001-about-page\n"))
        #expect(env.contains("spec_dir=\(checkout)/specs/001-about-page\n"))
        #expect(env.contains("attempt=1\n"))
        #expect(env.contains("pwd=\(checkout)\n"))
        #expect(env.contains("spec_dir_has_task_yaml"))
        #expect(env.contains("secret=unset"), "the controller's environment must not leak into the agent")
        #expect(env.contains("prompt_file=/") && env.contains("feedback_file=/"))
        #expect(try fixture.readOutside("feedback-1.txt") == "")
        let prompt = try fixture.readOutside("prompt-1.txt")
        #expect(prompt.contains("# Add an About page"))
        #expect(prompt.contains("app/about.php"))
        #expect(prompt.contains("php tests/run.php"))
        #expect(prompt.contains("**FR-001**"), "spec.md is part of the prompt")
        #expect(!FileManager.default.fileExists(atPath: checkout), "a committed attempt's checkout is removed")

        // Attempt 2 gets the feedback, starts from attempt 1's commit, and commits on top.
        let second = try await CodingAgent().attempt(
            fixture.codingRequest(attempt: 2, head: commit, feedback: "unit tests: index broken\n<failure/>")
        )
        let secondCommit = try #require(second.committedID, "\(second)")
        #expect(try fixture.readOutside("feedback-2.txt") == "unit tests: index broken\n<failure/>")
        #expect(try fixture.readOutside("prompt-2.txt").contains("unit tests: index broken"))
        #expect(try fixture.readOutside("env-2.txt").contains("attempt=2\n"))
        #expect(try fixture.git(["rev-list", "--count", "\(fixture.head.hex)..task/\(ControlRepoFixture.taskID)"]) == "2")
        #expect(try fixture.git(["log", "-1", "--format=%B", secondCommit.hex]).contains("\n\nTask: 001-about-page\nAttempt: 2"))
    }

    @Test("the change set keeps executable bits, symlinks, deletions and folder/file swaps")
    func changeSetKinds() async throws {
        let script = """
            printf '#!/bin/sh\\necho hi\\n' > app/run.sh && chmod +x app/run.sh
            ln -s index.php app/home.php
            rm tests/run.php
            mkdir -p app/about && echo about > app/about/index.php
            mkdir -p .git && echo junk > .git/HEAD
            """
        let fixture = try ControlRepoFixture(agentScript: script)
        defer { fixture.remove() }

        let outcome = try await CodingAgent().attempt(fixture.codingRequest(artifacts: ["app/about"]))

        let commit = try #require(outcome.committedID, "\(outcome)")
        #expect(outcome == .committed(commit, changedPaths: ["app/about/index.php", "app/home.php", "app/run.sh", "tests/run.php"]))
        let listing = try fixture.git(["ls-tree", "-r", "--format=%(objectmode) %(path)", commit.hex])
        #expect(listing.contains("100755 app/run.sh"))
        #expect(listing.contains("120000 app/home.php"))
        #expect(!listing.contains("tests/run.php"))
        #expect(!listing.contains(".git/"))
        #expect(try fixture.git(["cat-file", "-p", "\(commit.hex):app/home.php"]) == "index.php")
    }

    @Test(
        "an attempt fails with a clear reason and the branch stays put",
        arguments: [
            ("true", "changed no file"),
            ("echo about > app/about.php; echo 'apps: {}' > devsys.yaml", "protected paths: devsys.yaml"),
            ("echo about > app/about.php; echo notes > specs/001-about-page/notes.md", "protected paths: specs/001-about-page/notes.md"),
            ("echo about > app/about.php; mkdir -p .github && echo x > .github/ci.yml", "protected paths: .github/ci.yml"),
            ("echo other > app/other.php", "expected artifacts missing after the agent ran: app/about.php"),
            ("echo about > app/about.php; echo 'model refused' >&2; exit 3", "failed with exit status 3: model refused"),
            ("echo about > app/about.php; rm -rf \"$PWD\"", "deleted its checkout folder"),
            ("yes 'a line of output' | head -c 6000000; yes 'err' | head -c 3000000 >&2; exit 1", "failed with exit status 1"),
        ]
    )
    func failures(script: String, reason: String) async throws {
        let fixture = try ControlRepoFixture(agentScript: script)
        defer { fixture.remove() }

        let outcome = try await CodingAgent().attempt(fixture.codingRequest())

        let failure = try #require(outcome.failureReason, "\(outcome)")
        #expect(failure.contains(reason), "\(failure)")
        #expect(try fixture.branchHead() == fixture.head)
        #expect(try fixture.git(["rev-list", "--count", "--all"]) == "1", "no commit is left behind on any ref")
        let log = try #require(outcome.failureLog)
        #expect(log.utf8.count < 40_000, "the log is capped however much the agent prints")
        #expect(failure.utf8.count < 1_000 && !failure.contains("\n"), "a reason is one line: \(failure)")
    }

    @Test("a script that outlives its timeout is stopped, background children included")
    func timeout() async throws {
        let fixture = try ControlRepoFixture(agentScript: "sleep 600 & echo $! > \"$OUT/child.pid\"\nsleep 600\n")
        defer { fixture.remove() }
        let clock = ContinuousClock()
        let start = clock.now

        let outcome = try await CodingAgent(runner: ProcessRunner(killGrace: .milliseconds(500))).attempt(
            fixture.codingRequest(timeout: .seconds(1))
        )

        let elapsed = clock.now - start
        // Well short of the script's 600 s. The bound is that loose because the test's clock counts
        // the wait for a cooperative thread, which blocking tests beside it can hold for minutes.
        #expect(elapsed < .seconds(300), "took \(elapsed)")
        #expect(try #require(outcome.failureReason).contains("timed out after 1 s"))
        #expect(try fixture.branchHead() == fixture.head)
        let child = try #require(Int32(try fixture.readOutside("child.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!Shell.isAlive(child), "the background sleep was killed with its group")
    }

    @Test("a background child that keeps stdout open does not hang a finished agent")
    func backgroundChildHoldingStdout() async throws {
        let fixture = try ControlRepoFixture(agentScript: "sleep 600 &\necho $! > \"$OUT/child.pid\"\necho about > app/about.php\n")
        defer { fixture.remove() }
        let clock = ContinuousClock()
        let start = clock.now

        let outcome = try await CodingAgent().attempt(fixture.codingRequest(timeout: .seconds(20)))

        // Well short of the background sleep's 600 s (and the agent's 20 s timeout did not stop it: it
        // committed). Loose, because the test's clock counts the wait for a cooperative thread.
        #expect(clock.now - start < .seconds(300), "well short of the background sleep's 600 s")
        #expect(outcome.committedID != nil, "\(outcome)")
        let child = try #require(Int32(try fixture.readOutside("child.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!Shell.isAlive(child))
    }

    @Test("the script kind needs specs/<id>/agent.sh")
    func missingScript() async throws {
        let fixture = try ControlRepoFixture(agentScript: nil)
        defer { fixture.remove() }

        let outcome = try await CodingAgent().attempt(fixture.codingRequest())

        #expect(try #require(outcome.failureReason).contains("specs/001-about-page/agent.sh does not exist"))
        #expect(try fixture.branchHead() == fixture.head)
    }

    @Test("a command that is not installed fails the attempt, naming it")
    func missingProgram() async throws {
        let fixture = try ControlRepoFixture()
        defer { fixture.remove() }

        let outcome = try await CodingAgent().attempt(
            fixture.codingRequest(agent: .init(kind: .command, command: ["devsys-no-such-agent", "{prompt_file}"]))
        )

        #expect(try #require(outcome.failureReason).contains("cannot run 'devsys-no-such-agent'"))
    }

    @Test("after a crash between commit and record, the same attempt returns its commit without running again")
    func idempotentAfterCrash() async throws {
        let script = "echo run >> \"$OUT/runs.txt\"\necho about > app/about.php\n"
        let fixture = try ControlRepoFixture(agentScript: script)
        defer { fixture.remove() }
        let first = try await CodingAgent().attempt(fixture.codingRequest())
        let commit = try #require(first.committedID)

        // The controller restarts and replays the job with what it had recorded: the old head.
        let replay = try await CodingAgent().attempt(fixture.codingRequest())
        // Or with the head it re-read from the branch.
        let reread = try await CodingAgent().attempt(fixture.codingRequest(head: commit))

        #expect(replay == .committed(commit, changedPaths: ["app/about.php"]))
        #expect(reread == replay)
        #expect(try fixture.readOutside("runs.txt") == "run\n", "the script ran once")
        #expect(try fixture.branchHead() == commit)
    }

    @Test("a branch someone else moved is not overwritten")
    func branchMoved() async throws {
        let fixture = try ControlRepoFixture(agentScript: "echo run >> \"$OUT/runs.txt\"\necho about > app/about.php\n")
        defer { fixture.remove() }
        let pushed = try fixture.git(["commit-tree", "-p", fixture.head.hex, "-m", "pushed by a person", "\(fixture.head.hex)^{tree}"])
        try fixture.git(["update-ref", fixture.branch, pushed])
        let moved = try fixture.branchHead()

        await #expect(throws: AgentError.branchMoved(branch: fixture.branch, expected: fixture.head, found: moved)) {
            try await CodingAgent().attempt(fixture.codingRequest())
        }
        #expect(try fixture.branchHead() == moved)
        #expect(!FileManager.default.fileExists(atPath: fixture.outside.appendingPathComponent("runs.txt").path))
    }

    @Test("the first attempt creates the task branch when the reconciler has not")
    func createsBranch() async throws {
        let fixture = try ControlRepoFixture()
        defer { fixture.remove() }
        try fixture.git(["branch", "-D", "task/\(ControlRepoFixture.taskID)"])

        let outcome = try await CodingAgent().attempt(fixture.codingRequest())

        #expect(try fixture.branchHead() == outcome.committedID)
    }

    @Test("the timeout is the spec's, capped by agents.coding.timeout_s")
    func timeoutRule() throws {
        let fixture = try ControlRepoFixture()
        defer { fixture.remove() }
        #expect(CodingAgent.timeout(for: fixture.spec(timeout: 900), agent: .init(timeoutSeconds: 1800)) == .seconds(900))
        #expect(CodingAgent.timeout(for: fixture.spec(timeout: 3600), agent: .init(timeoutSeconds: 1800)) == .seconds(1800))
        #expect(fixture.codingRequest().timeout == .seconds(900))
    }
}

@Suite("Coding agent commands")
struct CodingCommandTests {
    let inputs = CodingCommandInputs(
        taskID: "001-about-page",
        specFolder: "specs/001-about-page",
        promptFile: "/state/attempt-2/prompt.md",
        feedbackFile: "/state/attempt-2/feedback.md",
        prompt: "Add an About page {task_id}",
        attempt: 2,
        toolFolder: "/state/attempt-2"
    )

    @Test func script() {
        #expect(CodingAgent.commandLine(for: .init(kind: .script), inputs) == ["sh", "specs/001-about-page/agent.sh"])
        // A command given with the script kind is not what runs.
        #expect(CodingAgent.commandLine(for: .init(kind: .script, command: ["x"]), inputs) == ["sh", "specs/001-about-page/agent.sh"])
    }

    @Test func opencode() {
        #expect(CodingAgent.commandLine(for: .init(kind: .opencode), inputs) == ["opencode", "run", "Add an About page {task_id}"])
    }

    @Test func aider() {
        #expect(
            CodingAgent.commandLine(for: .init(kind: .aider), inputs) == [
                "aider", "--message", "Add an About page {task_id}", "--yes-always", "--no-git",
                "--chat-history-file", "/state/attempt-2/aider.chat.history.md",
                "--input-history-file", "/state/attempt-2/aider.input.history",
            ]
        )
    }

    @Test func commandWithPlaceholders() {
        let agent = ProjectConfig.CodingAgent(
            kind: .command,
            command: [
                "my-agent", "--task={task_id}", "--prompt-file", "{prompt_file}", "{feedback_file}", "{attempt}", "{spec_dir}", "{unknown}", "{",
            ]
        )
        #expect(
            CodingAgent.commandLine(for: agent, inputs) == [
                "my-agent", "--task=001-about-page", "--prompt-file", "/state/attempt-2/prompt.md", "/state/attempt-2/feedback.md", "2",
                "specs/001-about-page", "{unknown}", "{",
            ]
        )
        // The prompt's own text is put in once, not searched for placeholders again.
        #expect(CodingAgent.commandLine(for: .init(kind: .command, command: ["a", "{prompt}"]), inputs) == ["a", "Add an About page {task_id}"])
    }

    @Test func commandOverridesPreset() {
        #expect(
            CodingAgent.commandLine(for: .init(kind: .opencode, command: ["opencode", "run", "--model", "x", "{prompt}"]), inputs)
                == ["opencode", "run", "--model", "x", "Add an About page {task_id}"]
        )
    }

    @Test func commandKindWithoutCommand() {
        #expect(CodingAgent.commandLine(for: .init(kind: .command), inputs) == nil)
    }

    @Test("a prompt too long for one argument is cut and points at the file")
    func longPrompt() throws {
        var long = inputs
        long.prompt = String(repeating: "é", count: 100_000)
        let argv = try #require(CodingAgent.commandLine(for: .init(kind: .opencode), long))
        #expect(argv[2].utf8.count < 128 * 1024)
        #expect(argv[2].hasSuffix("read all of it in /state/attempt-2/prompt.md.]"))
    }
}
