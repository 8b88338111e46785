import Foundation
import TestSupport
import Testing

/// The pipeline from a team's side: specs pushed with the git CLI into a bare repository made by
/// `devsys init --bare`, driven by `devsys run --until-idle` or a running `devsys serve`.
@Suite struct PipelineStoryTests {
    /// A bare control repository, a clone, and a folder outside both for agents to leave traces in.
    struct Team {
        let scratch: Scratch
        var bare: URL { scratch.url.appendingPathComponent("blog.git") }
        var clone: URL { scratch.url.appendingPathComponent("blog") }
        var traces: URL { scratch.url.appendingPathComponent("traces") }

        init() throws {
            scratch = try Scratch()
            #expect(try devsys("init", "--bare", scratch.path("blog.git")).status == 0)
            try git("clone", "-q", scratch.path("blog.git"), scratch.path("blog"), in: scratch.url)
            try FileManager.default.createDirectory(at: traces, withIntermediateDirectories: true)
            // Agents run sandboxed: the traces folder is the one place outside their checkout
            // they may write to, as an operator would allow a cache.
            let config = try String(contentsOf: clone.appendingPathComponent("devsys.yaml"), encoding: .utf8)
            try scratch.write(
                "blog/devsys.yaml",
                config.replacingOccurrences(
                    of: "coding: { kind: script, timeout_s: 600 }",
                    with: "coding: { kind: script, timeout_s: 600, writable: [\(traces.path)] }"
                )
                .replacingOccurrences(of: "testing: { parallel: 2 }", with: "testing: { parallel: 2, writable: [\(traces.path)] }")
            )
            try git("commit", "-q", "-am", "Agents may leave traces", in: clone)
            try git("push", "-q", "origin", "main", in: clone)
        }

        /// Commits a spec with `agent` as its agent.sh and pushes it.
        func pushSpec(_ id: String, maxAttempts: Int = 3, agent: String) throws {
            let spec = validSpec(id: id) + "\nretry_policy: { max_attempts: \(maxAttempts), backoff_s: 0, max_backoff_s: 0 }\n"
            try scratch.write("blog/specs/\(id)/task.yaml", spec)
            try scratch.write("blog/specs/\(id)/agent.sh", agent)
            try git("add", "-A", in: clone)
            try git("commit", "-q", "-m", "Add task \(id)", in: clone)
            let push = try gitResult("push", "-q", "origin", "main", in: clone)
            try #require(push.status == 0, "push failed: \(push.stderr)")
        }

        func runUntilIdle() throws -> CommandResult {
            try devsys("run", "--until-idle", "--timeout", "120", "--repo", bare.path)
        }

        func state(of id: String) throws -> String {
            let show = try devsys("task", "show", id, "--json", "--repo", bare.path)
            struct Shown: Decodable { var state: String }
            return try JSONDecoder().decode(Shown.self, from: Data(show.stdout.utf8)).state
        }

        /// `git log` of the task branch: one line per commit, "subject|Attempt trailer"; empty
        /// when the branch does not exist.
        func branchLog(_ id: String) throws -> [String] {
            let log = try gitResult("log", "--format=%s|%(trailers:key=Attempt,valueonly)", "main..task/\(id)", "--", in: bare)
            guard log.status == 0 else { return [] }
            return log.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        /// How many commits of the task branch carry a test report note.
        func testedCommits(_ id: String) throws -> Int {
            try git("log", "--format=%H", "main..task/\(id)", in: bare).split(separator: "\n").filter { commit in
                (try? gitResult("notes", "--ref=devsys/tests", "list", String(commit), in: bare).status) == 0
            }.count
        }
    }

    /// A page that passes the blog's tests when `good`, and fails them otherwise.
    static func page(_ id: String, good: Bool) -> String {
        good
            ? "<?php require_once __DIR__ . '/layout.php'; page('\(id)', '<p>done</p>');"
            : "<?php echo 'no heading here';"
    }

    @Test func aPushedSpecBecomesATestedBranchInReviewAndMergesAfterApproval() throws {
        let team = try Team()
        try team.pushSpec("002-contact", agent: "cat > app/002-contact.php <<'PHP'\n\(Self.page("002-contact", good: true))\nPHP\n")

        let run = try team.runUntilIdle()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try team.state(of: "002-contact") == "review")
        let log = try team.branchLog("002-contact")
        #expect(log == ["Task 002-contact (attempt 1)|1"], "one agent commit: \(log)")
        #expect(try git("log", "-1", "--format=%an", "task/002-contact", in: team.bare) == "devsys coding agent\n")
        let note = try git("notes", "--ref=devsys/tests", "show", "task/002-contact", in: team.bare)
        #expect(note.contains("<testsuites"))
        #expect(note.contains("failures=\"0\""))

        #expect(try devsys("pr", "approve", "002-contact", "--repo", team.bare.path).status == 0)
        let merge = try devsys("pr", "merge", "002-contact", "--repo", team.bare.path)
        #expect(merge.status == 0, "\(merge.stdout)\(merge.stderr)")
        #expect(try team.state(of: "002-contact") == "merged")
        #expect(try git("show", "main:app/002-contact.php", in: team.bare).contains("page('002-contact'"))
        #expect(try git("log", "-1", "--format=%P", "main", in: team.bare).split(separator: " ").count == 2, "a merge commit")
        // --no-dangling: two test jobs storing their notes at once leave the loser of the notes
        // ref's compare-and-swap unreferenced, as a lost race in git itself does; what counts is
        // that every object devsys wrote is well-formed and every ref resolves.
        let fsck = try git("fsck", "--strict", "--no-dangling", in: team.bare)
        #expect(fsck.isEmpty, "\(fsck)")
    }

    @Test func aFailedFirstAttemptSucceedsOnTheSecondWithTheFeedback() throws {
        let team = try Team()
        let traces = team.traces.path
        try team.pushSpec(
            "003-search",
            agent: """
                cp "$DEVSYS_FEEDBACK_FILE" "\(traces)/feedback-$DEVSYS_ATTEMPT.txt"
                if [ "$DEVSYS_ATTEMPT" = 1 ]; then
                  echo "\(Self.page("003-search", good: false))" > app/003-search.php
                else
                  cat > app/003-search.php <<'PHP'
                \(Self.page("003-search", good: true))
                PHP
                fi
                """
        )
        let run = try team.runUntilIdle()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try team.state(of: "003-search") == "review")
        #expect(try team.branchLog("003-search") == ["Task 003-search (attempt 2)|2", "Task 003-search (attempt 1)|1"])
        let first = try String(contentsOfFile: "\(traces)/feedback-1.txt", encoding: .utf8)
        let second = try String(contentsOfFile: "\(traces)/feedback-2.txt", encoding: .utf8)
        #expect(first.isEmpty, "no feedback on the first attempt")
        #expect(second.contains("The tests failed"), "\(second)")
        #expect(second.contains("FAIL 003-search.php"), "the failing output reaches the agent: \(second)")
        #expect(try team.testedCommits("003-search") == 2, "both tested commits carry a report")
    }

    @Test func aTaskThatExhaustsItsAttemptsFailsWithTheReason() throws {
        let team = try Team()
        try team.pushSpec("004-broken", maxAttempts: 2, agent: "echo \"<?php echo 'attempt '.$DEVSYS_ATTEMPT;\" > app/004-broken.php\n")
        let run = try team.runUntilIdle()
        #expect(run.status == 1, "a run in which a task failed exits 1: \(run.stderr)")
        #expect(run.stderr.contains("task failed: 004-broken: attempt 2 of 2"), "the summary names it: \(run.stderr)")
        #expect(try team.state(of: "004-broken") == "failed")
        let show = try devsys("task", "show", "004-broken", "--repo", team.bare.path)
        #expect(show.stdout.contains("attempt 2 of 2"), "\(show.stdout)")
        #expect(show.stdout.contains("tests failed"), "\(show.stdout)")
        #expect(try team.branchLog("004-broken").count == 2)
    }

    @Test func aKilledControllerResumesWithOneCommitPerAttemptAndNoDuplicateNotes() throws {
        let team = try Team()
        let traces = team.traces.path
        // The agent announces itself, then takes long enough to be killed mid-job.
        try team.pushSpec(
            "005-slow",
            agent: """
                echo started >> "\(traces)/runs"
                [ -e "\(traces)/killed" ] || sleep 20
                cat > app/005-slow.php <<'PHP'
                \(Self.page("005-slow", good: true))
                PHP
                """
        )
        let serve = try ChildProcess(
            devsysBinary,
            ["serve", "--repo", team.bare.path, "--poll", "0.2"],
            environment: commandEnvironment,
            closeInheritedDescriptors: true
        )
        try waitFor("the coding job to start under serve") { FileManager.default.fileExists(atPath: "\(traces)/runs") || serve.hasExited }
        try #require(FileManager.default.fileExists(atPath: "\(traces)/runs"), "the coding job started under serve")
        serve.stop(signal: SIGKILL)
        FileManager.default.createFile(atPath: "\(traces)/killed", contents: nil)
        #expect(try team.branchLog("005-slow").isEmpty, "nothing committed by the killed run")

        let run = try team.runUntilIdle()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try team.state(of: "005-slow") == "review")
        #expect(try team.branchLog("005-slow") == ["Task 005-slow (attempt 1)|1"])
        #expect(try team.testedCommits("005-slow") == 1)
        // One notes commit per test run: the template's own task and this one, no replays.
        #expect(try git("rev-list", "--count", "refs/notes/devsys/tests", in: team.bare) == "2\n")
        #expect(try String(contentsOfFile: "\(traces)/runs", encoding: .utf8) == "started\nstarted\n", "the agent ran again after the kill")
    }

    @Test func serveWakesOnAPushThroughThePostReceiveHook() throws {
        let team = try Team()
        // A long poll: only the hook's notification can make it act in time.
        let serve = try ChildProcess(
            devsysBinary,
            ["serve", "--repo", team.bare.path, "--poll", "600"],
            environment: commandEnvironment,
            closeInheritedDescriptors: true
        )
        defer { serve.stop(signal: SIGTERM) }
        // Push once it listens for the hook's notification (its socket is there), not after a guessed delay.
        let socket = team.bare.appendingPathComponent("devsys/notify.sock").path
        try waitFor("serve to listen on \(socket)") { FileManager.default.fileExists(atPath: socket) || serve.hasExited }
        try team.pushSpec("006-fast", agent: "cat > app/006-fast.php <<'PHP'\n\(Self.page("006-fast", good: true))\nPHP\n")
        var branch = ""
        try waitFor("serve to act on the push") {
            branch = (try? gitResult("rev-parse", "--verify", "-q", "task/006-fast", in: team.bare).stdout) ?? ""
            return !branch.isEmpty || serve.hasExited
        }
        #expect(!branch.isEmpty, "serve acted on the push")
    }

    @Test func aForcePushedTaskBranchIsTestedAgainBeforeItCanMerge() throws {
        let team = try Team()
        try team.pushSpec("007-edit", agent: "cat > app/007-edit.php <<'PHP'\n\(Self.page("007-edit", good: true))\nPHP\n")
        #expect(try team.runUntilIdle().status == 0)
        #expect(try team.state(of: "007-edit") == "review")

        // A reviewer replaces the agent's commit with a broken one and force-pushes the branch.
        try git("fetch", "-q", "origin", "task/007-edit", in: team.clone)
        try git("checkout", "-q", "-b", "task/007-edit", "FETCH_HEAD", in: team.clone)
        try team.scratch.write("blog/app/007-edit.php", Self.page("007-edit", good: false))
        try git("commit", "-q", "--amend", "-am", "Reviewer's take", in: team.clone)
        try git("push", "-q", "--force", "origin", "task/007-edit", in: team.clone)
        let pushed = try git("rev-parse", "HEAD", in: team.clone).trimmingCharacters(in: .whitespacesAndNewlines)

        let merge = try devsys("pr", "merge", "007-edit", "--repo", team.bare.path)
        #expect(merge.status == 1, "an untested head never merges")
        #expect(try team.runUntilIdle().status == 0)
        let show = try devsys("task", "show", "007-edit", "--repo", team.bare.path)
        #expect(show.stdout.contains("moved to"), "\(show.stdout)")
        // Its failure sent the task back to coding, whose new attempt builds on the pushed head.
        #expect(try team.branchLog("007-edit").first == "Task 007-edit (attempt 2)|2")
        let note = try git("notes", "--ref=devsys/tests", "show", pushed, in: team.bare)
        #expect(note.contains("<testsuites") && !note.contains("failures=\"0\""), "the pushed head was tested, and failed: \(note)")
    }

    @Test func aDeletedSpecCancelsItsTaskAndAnInvalidOneFailsWithTheReason() throws {
        let team = try Team()
        for id in ["008-gone", "009-later"] {
            try team.pushSpec(id, agent: "cat > app/\(id).php <<'PHP'\n\(Self.page(id, good: true))\nPHP\n")
        }
        #expect(try team.runUntilIdle().status == 0)
        #expect(try team.state(of: "008-gone") == "review")
        // Then one spec is deleted and the other broken, with the hooks bypassed the way a push
        // to a repository without them would.
        try git("rm", "-q", "-r", "specs/008-gone", in: team.clone)
        try team.scratch.write("blog/specs/009-later/task.yaml", validSpec(id: "009-later", app: "nope"))
        try git("commit", "-q", "--no-verify", "-am", "Drop one, break one", in: team.clone)
        try FileManager.default.removeItem(at: team.bare.appendingPathComponent("hooks/pre-receive"))
        try git("push", "-q", "origin", "main", in: team.clone)

        let run = try team.runUntilIdle()
        #expect(run.status == 1, "the invalid spec failed its task: \(run.stderr)")
        #expect(run.stderr.contains("task failed: 009-later: spec is invalid"), "\(run.stderr)")
        #expect(try team.state(of: "008-gone") == "cancelled")
        #expect(try team.state(of: "009-later") == "failed")
        let show = try devsys("task", "show", "009-later", "--repo", team.bare.path)
        #expect(show.stdout.contains("unknown app 'nope'"), "\(show.stdout)")
    }

    @Test func aBranchMergedWithPlainGitIsRecognised() throws {
        let team = try Team()
        try team.pushSpec("010-plain", agent: "cat > app/010-plain.php <<'PHP'\n\(Self.page("010-plain", good: true))\nPHP\n")
        #expect(try team.runUntilIdle().status == 0)
        #expect(try team.state(of: "010-plain") == "review")
        try git("pull", "-q", "--no-rebase", "origin", "main", in: team.clone)
        try git("fetch", "-q", "origin", "task/010-plain", in: team.clone)
        try git("merge", "-q", "--no-edit", "FETCH_HEAD", in: team.clone)
        try git("push", "-q", "origin", "main", in: team.clone)
        #expect(try team.runUntilIdle().status == 0)
        #expect(try team.state(of: "010-plain") == "merged")
    }

    @Test func aMergeConflictSendsTheTaskBackToCodingWithTheConflictingPaths() throws {
        let team = try Team()
        let traces = team.traces.path
        try team.pushSpec(
            "011-clash",
            agent: """
                cp "$DEVSYS_FEEDBACK_FILE" "\(traces)/feedback-$DEVSYS_ATTEMPT.txt"
                cat > app/index.php <<'PHP'
                <?php require_once __DIR__ . '/layout.php'; page('Blog', '<p>attempt '.getenv('X').'</p>');
                PHP
                echo "<?php require_once __DIR__ . '/layout.php'; page('Clash', 'attempt $DEVSYS_ATTEMPT');" > app/011-clash.php
                """
        )
        #expect(try team.runUntilIdle().status == 0)
        #expect(try team.state(of: "011-clash") == "review")
        // Someone changes the same lines on main in the meantime.
        try git("pull", "-q", "--no-rebase", "origin", "main", in: team.clone)
        try team.scratch.write("blog/app/index.php", "<?php require_once __DIR__ . '/layout.php'; page('Blog', '<p>edited on main</p>');\n")
        try git("commit", "-q", "-am", "Edit the home page", in: team.clone)
        try git("push", "-q", "origin", "main", in: team.clone)

        #expect(try devsys("pr", "approve", "011-clash", "--repo", team.bare.path).status == 0)
        let merge = try devsys("pr", "merge", "011-clash", "--repo", team.bare.path)
        #expect(merge.status == 1)
        #expect((merge.stdout + merge.stderr).contains("app/index.php"), "\(merge.stdout)\(merge.stderr)")
        #expect(try team.state(of: "011-clash") == "coding")
        #expect(try devsys("run", "--until-idle", "--timeout", "60", "--repo", team.bare.path).status == 0)
        let feedback = try String(contentsOfFile: "\(traces)/feedback-2.txt", encoding: .utf8)
        #expect(feedback.contains("conflicts in"), "\(feedback)")
        #expect(feedback.contains("app/index.php"))
    }

    @Test func aDeletedTaskBranchIsCodedAgainAndAFailedTaskCanBeRetried() throws {
        let team = try Team()
        let traces = team.traces.path
        // Fails (no change at all) until the test drops a file that lets it write its page.
        try team.pushSpec(
            "012-again",
            maxAttempts: 1,
            agent: """
                [ -e "\(traces)/go" ] || exit 0
                cat > app/012-again.php <<'PHP'
                \(Self.page("012-again", good: true))
                PHP
                """
        )
        #expect(try team.runUntilIdle().status == 1)
        #expect(try team.state(of: "012-again") == "failed")
        FileManager.default.createFile(atPath: "\(traces)/go", contents: nil)
        let retry = try devsys("task", "retry", "012-again", "--repo", team.bare.path)
        #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
        #expect(try team.runUntilIdle().status == 0)
        #expect(try team.state(of: "012-again") == "review")

        try git("update-ref", "-d", "refs/heads/task/012-again", in: team.bare)
        #expect(try team.runUntilIdle().status == 0)
        #expect(try team.state(of: "012-again") == "review")
        #expect(try team.branchLog("012-again").count == 1, "a new branch with one new agent commit")
        let show = try devsys("task", "show", "012-again", "--repo", team.bare.path)
        #expect(show.stdout.contains("was deleted outside devsys"), "\(show.stdout)")
    }
}
