import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Hostile agents against the sandbox (DESIGN §5), through the real pipeline: `devsys run
/// --until-idle` on a bare repository, with secrets in the controller's environment. Each agent is
/// a script that tries to escape; afterwards main, the hooks and the state folder are as they were,
/// no secret is anywhere in git or the state folder, and nothing the agents started still runs.
@Suite(.serialized) struct SandboxTests {
    /// A bare control repository whose devsys.yaml has `agents` as given, without the example spec.
    final class Lab {
        let scratch: Scratch
        var bare: URL { scratch.url.appendingPathComponent("lab.git") }
        var clone: URL { scratch.url.appendingPathComponent("lab") }
        var state: String { bare.path + "/devsys" }
        let secrets = [
            "DEVSYS_WEBHOOK_SECRET": "whsec-\(UUID().uuidString)", "GITHUB_TOKEN": "ghp_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))",
        ]

        init(agents: String) throws {
            scratch = try Scratch()
            #expect(try devsys("init", "--bare", bare.path).status == 0)
            try git("clone", "-q", bare.path, clone.path, in: scratch.url)
            try git("rm", "-q", "-r", "specs/001-about-page", in: clone)
            try scratch.write(
                "lab/devsys.yaml",
                """
                apps:
                  blog: { path: app, test: php tests/run.php }
                environments:
                  staging: { hosts: [dev1], keep_revisions: 5 }
                hosts:
                  dev1: { transport: local, root: \(scratch.path("host")), url: "http://127.0.0.1:9" }
                agents:
                \(agents)

                """
            )
            try push("A lab for hostile agents")
        }

        func push(_ message: String) throws {
            try git("add", "-A", in: clone)
            try git("commit", "-q", "-m", message, in: clone)
            let push = try gitResult("push", "-q", "origin", "main", in: clone)
            try #require(push.status == 0, "push failed: \(push.stderr)")
        }

        /// A spec of one attempt whose agent.sh is `agent`; `extra` lines go into task.yaml.
        func addSpec(_ id: String, agent: String, extra: String = "") throws {
            try scratch.write("lab/specs/\(id)/task.yaml", validSpec(id: id) + "\nretry_policy: { max_attempts: 1 }\n" + extra)
            try scratch.write("lab/specs/\(id)/agent.sh", agent)
        }

        /// `devsys run --until-idle` with the secrets in its environment; also the highest resident
        /// memory (VmHWM, KiB) the controller reached, read while it ran.
        func run() throws -> (result: ChildProcess.Result, peakKiB: Int) {
            let child = try ChildProcess(
                devsysBinary,
                ["run", "--until-idle", "--timeout", "300", "--repo", bare.path],
                environment: commandEnvironment.merging(secrets) { $1 },
                output: .captured,
                closeInheritedDescriptors: true
            )
            var peak = 0
            while !child.hasExited {
                if let status = try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8),
                    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                    let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
                {
                    peak = max(peak, kib)
                }
                usleep(50_000)
            }
            return (child.wait(), peak)
        }

        /// What an agent must not change: main, every hook file, the config of the repository.
        func guarded() throws -> [String: String] {
            var files = ["main": try git("rev-parse", "refs/heads/main", in: bare)]
            let hooks = bare.appendingPathComponent("hooks")
            for name in try FileManager.default.contentsOfDirectory(atPath: hooks.path) {
                files["hooks/\(name)"] = try String(contentsOf: hooks.appendingPathComponent(name), encoding: .utf8)
            }
            files["config"] = try String(contentsOf: bare.appendingPathComponent("config"), encoding: .utf8)
            return files
        }

        /// Every place a secret could have landed: all commits with their patches, every note, and
        /// every file of the state folder.
        func leaks() throws -> [String] {
            var places = ["git log --all -p": try git("log", "--all", "-p", "--binary", in: bare)]
            for ref in try git("for-each-ref", "--format=%(refname)", "refs/notes", in: bare).split(separator: "\n") {
                places["notes \(ref)"] = try git("log", "-p", String(ref), in: bare)
            }
            if let files = FileManager.default.enumerator(atPath: state) {
                for case let file as String in files {
                    if let data = FileManager.default.contents(atPath: state + "/" + file) {
                        places["state \(file)"] = String(decoding: data, as: UTF8.self)
                    }
                }
            }
            return places.flatMap { place, text in secrets.values.filter { text.contains($0) }.map { "\($0.prefix(8))… in \(place)" } }
        }

        func show(_ id: String) throws -> String {
            try devsys("task", "show", id, "--repo", bare.path).stdout
        }

        /// A file of the task branch.
        func file(_ path: String, of id: String) throws -> String {
            try gitResult("show", "task/\(id):\(path)", in: bare).stdout
        }

        /// How many commits the task branch has over main; 0 when it does not exist.
        func branchCount(_ id: String) throws -> Int {
            let log = try gitResult("rev-list", "--count", "main..task/\(id)", in: bare)
            return log.status == 0 ? Int(log.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 : 0
        }

        /// The test report note of the task branch's head.
        func report(of id: String) throws -> String {
            try gitResult("notes", "--ref=devsys/tests", "show", "task/\(id)", in: bare).stdout
        }
    }

    static func running(_ marker: String) -> [String] { runningProcesses(matching: marker) }

    static func page(_ id: String) -> String {
        "cat > app/\(id).php <<'PHP'\n\(PipelineStoryTests.page(id, good: true))\nPHP\n"
    }

    /// The escapes a prompt-injected agent would try, each reported in a file it commits; and a
    /// test command (tests/run.php, which the agent may change) that tries the same.
    @Test func anAgentCannotReachTheControlRepositoryTheStateOrTheControllersSecrets() throws {
        let lab = try Lab(agents: "  coding: { kind: script, timeout_s: 60 }\n  testing: { parallel: 1 }")
        try lab.scratch.write("listener/index.php", "<?php echo 'listening';")
        let listener = try PHPServer(appRoot: lab.scratch.path("listener"))
        defer { listener.stop() }
        let port = listener.url.split(separator: ":").last.map(String.init) ?? "0"
        let control = lab.bare.path
        let probes = """
            echo "uid $(id -u)"
            if echo 'exit 0' > '\(control)/hooks/pre-receive' 2>/dev/null; then echo "hook written"; else echo "hook refused"; fi
            if git --git-dir='\(control)' update-ref refs/heads/main HEAD 2>/dev/null; then echo "main moved"; else echo "main refused"; fi
            if [ -e '\(control)/HEAD' ]; then echo "control visible"; else echo "control absent"; fi
            if [ -e '\(lab.state)/devsys.sqlite' ]; then echo "store visible"; else echo "store absent"; fi
            d=$PWD; while [ "$d" != / ]; do d=$(dirname "$d"); [ -f "$d/HEAD" ] && [ -d "$d/objects" ] && echo "found a repository at $d"; [ -e "$d/devsys.sqlite" ] && echo "found the store at $d"; done
            echo "processes seen: $(ls -d /proc/[0-9]* | wc -l)"
            echo "home entries: $(ls -A "$HOME_OUTSIDE" 2>/dev/null | wc -l)"
            php -r '$s = @fsockopen("127.0.0.1", \(port), $e, $m, 2); echo $s ? "tcp connected\\n" : "tcp refused\\n";'
            """
        let agent = """
            HOME_OUTSIDE='\(ProcessInfo.processInfo.environment["HOME"] ?? "/root")'
            { \(probes)
            } > app/escape.txt 2>&1
            for p in /proc/[0-9]*; do tr '\\0' '\\n' < "$p/environ" 2>/dev/null; done > app/env.txt
            env >> app/env.txt
            setsid sh -c 'exec sleep 31337' > /dev/null 2>&1 &
            sh -c '(exec sleep 31338 > /dev/null 2>&1 &)'
            cat > tests/run.php <<'PHP'
            <?php
            echo shell_exec(<<<'SH'
            HOME_OUTSIDE='\(ProcessInfo.processInfo.environment["HOME"] ?? "/root")'
            \(probes)
            for p in /proc/[0-9]*; do tr '\\0' ' ' < "$p/environ" 2>/dev/null; done
            env
            SH);
            PHP
            \(Self.page("301-escape"))
            """
        try lab.addSpec("301-escape", agent: agent)
        try lab.push("A hostile agent")
        let before = try lab.guarded()

        let (result, _) = try lab.run()
        let show = try lab.show("301-escape")
        #expect(show.contains("review"), "the attempt itself is ordinary: \(show)\n\(result.stdout)\(result.stderr)")

        let escape = try lab.file("app/escape.txt", of: "301-escape")
        for line in ["uid 65534", "hook refused", "main refused", "control absent", "store absent", "home entries: 0", "tcp connected"] {
            #expect(escape.contains(line), "the agent saw '\(line)': \(escape)")
        }
        #expect(!escape.contains("found a"), "walking up from the checkout finds nothing: \(escape)")
        let seen = escape.split(separator: "\n").first { $0.hasPrefix("processes seen: ") }.flatMap { Int($0.dropFirst(16)) } ?? 0
        #expect(seen > 0 && seen < 10, "/proc shows the sandbox's own processes only: \(escape)")

        // The test command ran in its own sandbox, with no network (agents.testing.network: none).
        let report = try lab.report(of: "301-escape")
        for line in ["hook refused", "main refused", "control absent", "store absent", "home entries: 0", "tcp refused"] {
            #expect(report.contains(line), "the test command saw '\(line)': \(report)")
        }

        #expect(try lab.guarded() == before, "main, the hooks and the config are unchanged")
        let leaks = try lab.leaks()
        #expect(leaks.isEmpty, "no secret of the controller's environment anywhere: \(leaks)")
        usleep(1_000_000)
        #expect(Self.running("sleep 3133").isEmpty, "nothing the agent started still runs 1 s later: \(Self.running("sleep 3133"))")
    }

    /// Limits that hold: memory (cgroup), processes (cgroup pids), file size and change size.
    @Test func limitsStopAMemoryHogAForkBombAndAHugeFile() throws {
        let lab = try Lab(agents: "  coding: { kind: script, timeout_s: 60, parallel: 2, max_processes: 64, max_file_mb: 5, max_change_mb: 8 }")
        try lab.addSpec(
            "311-hog",
            agent: "php -d memory_limit=-1 -r '$s = str_repeat(\"x\", 400 * 1024 * 1024); echo strlen($s);'\n" + Self.page("311-hog"),
            extra: "resource_requirements: { memory_mb: 64 }\n"
        )
        try lab.addSpec(
            "312-forks",
            agent: """
                # dash gives up at the first fork the pids limit refuses: the bomb runs in a subshell.
                ( i=0; while [ $i -lt 300 ]; do sleep 3.31339 & i=$((i+1)); done ) 2>/dev/null
                # Builtins only from here: no fork is left while the sleeps hold the limit.
                set -- /proc/[0-9]*; echo $# > app/forks.txt
                echo '<?php echo "<h1>312-forks</h1>";' > app/312-forks.php
                """
        )
        try lab.addSpec("313-huge", agent: "head -c 2147483648 /dev/zero > app/huge.bin\n" + Self.page("313-huge"))
        try lab.addSpec(
            "314-wide",
            agent: "for i in 1 2 3; do head -c 3145728 /dev/urandom > app/part$i.bin; done\n" + Self.page("314-wide")
        )
        try lab.addSpec("315-odd-name", agent: ": > \"app/caf$(printf '\\351').txt\"\n" + Self.page("315-odd-name"))
        try lab.push("Greedy agents")
        let before = try lab.guarded()

        let (result, peak) = try lab.run()
        #expect(result.status == 1, "run reports the failed tasks: \(result.stdout)")
        let hog = try lab.show("311-hog")
        #expect(hog.contains("failed") && hog.contains("memory limit of 64 MB"), "\(hog)")

        let forks = Int(try lab.file("app/forks.txt", of: "312-forks").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let forksShown = try lab.show("312-forks")
        #expect(forks > 10 && forks <= 64, "the pids limit held: \(forks) processes at once; \(forksShown)")

        let huge = try lab.show("313-huge")
        #expect(huge.contains("failed") && huge.contains("app/huge.bin") && huge.contains("max_file_mb"), "\(huge)")
        let wide = try lab.show("314-wide")
        #expect(wide.contains("failed") && wide.contains("max_change_mb"), "\(wide)")
        let odd = try lab.show("315-odd-name")
        #expect(odd.contains("failed") && odd.contains("app/caf\\xE9.txt") && odd.contains("not UTF-8"), "\(odd)")

        #expect(peak > 0 && peak < 200 * 1024, "the controller's memory stayed bounded: \(peak) KiB")
        #expect(try lab.guarded() == before)
        usleep(1_000_000)
        #expect(Self.running("sleep 3.31339").isEmpty, "the fork bomb is gone: \(Self.running("sleep 3.31339").count) left")
    }

    /// A change of 2 GB (over raised limits) is streamed: into git, into the test checkout; the
    /// controller's memory stays far below the file's size.
    @Test func aTwoGigabyteFileIsStreamedNotRead() throws {
        let lab = try Lab(agents: "  coding: { kind: script, timeout_s: 120, network: none, max_file_mb: 4096, max_change_mb: 4096 }")
        try lab.scratch.write("listener/index.php", "<?php echo 'listening';")
        let listener = try PHPServer(appRoot: lab.scratch.path("listener"))
        defer { listener.stop() }
        let port = listener.url.split(separator: ":").last.map(String.init) ?? "0"
        try lab.addSpec(
            "321-big",
            agent: """
                truncate -s 2G app/big.bin
                php -r '$s = @fsockopen("127.0.0.1", \(port), $e, $m, 2); echo $s ? "tcp connected\\n" : "tcp refused\\n";' > app/net.txt
                \(Self.page("321-big"))
                """
        )
        try lab.push("A big change")
        let (result, peak) = try lab.run()
        let show = try lab.show("321-big")
        #expect(show.contains("review"), "\(show)\n\(result.stdout)\(result.stderr)")
        #expect(try git("cat-file", "-s", "task/321-big:app/big.bin", in: lab.bare).trimmingCharacters(in: .whitespacesAndNewlines) == "2147483648")
        #expect(try lab.file("app/net.txt", of: "321-big").contains("tcp refused"), "agents.coding.network: none")
        #expect(peak > 0 && peak < 200 * 1024, "the controller's memory stayed bounded: \(peak) KiB")
    }

    /// Without bubblewrap the task is refused at once, saying what is missing and what
    /// `agents.sandbox: false` means; `devsys doctor` says the same and exits 1.
    @Test func withoutBubblewrapAgentsAreRefusedAndDoctorSaysWhy() throws {
        let lab = try Lab(agents: "  coding: { kind: script }")
        try lab.addSpec("331-nowhere", agent: Self.page("331-nowhere"))
        try lab.push("A spec")
        // A PATH without bwrap (devsys itself needs nothing from PATH to refuse).
        var environment = commandEnvironment
        environment["PATH"] = "/nonexistent"
        let refused = try TestSupport.ChildProcess(
            devsysBinary,
            ["run", "--until-idle", "--timeout", "60", "--repo", lab.bare.path],
            environment: environment,
            output: .captured,
            closeInheritedDescriptors: true
        ).wait()
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        let show = try lab.show("331-nowhere")
        #expect(show.contains("failed") && show.contains("bubblewrap") && show.contains("agents: { sandbox: false }"), "\(show)")
        #expect(try lab.branchCount("331-nowhere") == 0, "no attempt ran")

        let doctor = try TestSupport.ChildProcess(
            devsysBinary,
            ["doctor", "--no-hosts", "--repo", lab.bare.path],
            environment: environment,
            output: .captured,
            closeInheritedDescriptors: true
        ).wait()
        #expect(doctor.status == 1)
        #expect(doctor.stdout.contains("FAIL sandbox") && doctor.stdout.contains("bubblewrap (bwrap) is not installed"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("agents are refused"), "\(doctor.stdout)")

        let healthy = try devsys("doctor", "--json", "--repo", lab.bare.path)
        #expect(healthy.status == 0, "\(healthy.stdout)")
        #expect(healthy.stdout.contains("\"libgit2\"") && healthy.stdout.contains("\"host dev1\""), "\(healthy.stdout)")
    }

    /// The state folder is the controller's only; the repository refuses objects git fsck rejects.
    @Test func theStateFolderIsPrivateAndPushesAreChecked() throws {
        let lab = try Lab(agents: "  coding: { kind: script }")
        #expect(try git("config", "--get", "receive.fsckObjects", in: lab.bare).trimmingCharacters(in: .whitespacesAndNewlines) == "true")
        try lab.addSpec("341-private", agent: Self.page("341-private"))
        try lab.push("A spec")
        _ = try lab.run()
        let folder = try FileManager.default.attributesOfItem(atPath: lab.state)[.posixPermissions] as? Int
        let store = try FileManager.default.attributesOfItem(atPath: lab.state + "/devsys.sqlite")[.posixPermissions] as? Int
        #expect(folder == 0o700 && store == 0o600, "state \(String(folder ?? 0, radix: 8)), store \(String(store ?? 0, radix: 8))")

        // A tree with a '..' entry, made by hand: git fsck rejects it, so the push is refused.
        let blob = try run("/usr/bin/git", ["hash-object", "-w", "--stdin"], in: lab.clone, input: "x").stdout.trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        var tree = Data("100644 ..\0".utf8)
        var hex = Substring(blob)
        while !hex.isEmpty {
            tree.append(UInt8(hex.prefix(2), radix: 16) ?? 0)
            hex = hex.dropFirst(2)
        }
        try tree.write(to: lab.scratch.url.appendingPathComponent("bad.tree"))
        let treeID = try run("/usr/bin/git", ["hash-object", "-w", "-t", "tree", "--literally", lab.scratch.path("bad.tree")], in: lab.clone)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try run("/usr/bin/git", ["commit-tree", treeID, "-p", "HEAD", "-m", "bad"], in: lab.clone).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        let push = try gitResult("push", "origin", "\(commit):refs/heads/sneaky", in: lab.clone)
        #expect(push.status != 0, "the push of a bad tree is refused: \(push.stderr)")
        #expect(try gitResult("rev-parse", "--verify", "-q", "refs/heads/sneaky", in: lab.bare).status != 0)
    }
}
