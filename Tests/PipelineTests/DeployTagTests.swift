import Testing

@testable import Deploy
@testable import Environments
@testable import Pipeline

/// What a deploy tag's message keeps as evidence (DESIGN §5): every verification request with its
/// status, latency and a body snippet, the lines the PHP error log gained, the release commands'
/// output, and for a rollback where it went back to.
@Suite struct DeployTagTests {
    @Test func theTagRecordsEachRequestTheErrorLogLinesAndTheCommandsPerHost() throws {
        let commit = String(repeating: "ab", count: 20)
        func probe(_ path: String, _ status: Int?, _ body: String, failure: String? = nil) -> RevisionVerifier.ProbeResult {
            .init(
                path: path,
                expectedStatus: 200,
                bodyContains: nil,
                status: status,
                latencyMs: 12,
                bodySnippet: body,
                passed: failure == nil,
                failure: failure
            )
        }
        var host = Rollout.HostOutcome(
            host: "web1",
            app: "blog",
            revision: "0002-abababababab",
            previousRevision: "0001-cdcdcdcdcdcd",
            previousCommit: nil,
            entriesSent: 3,
            bytesSent: 2048,
            incrementalFrom: "0001-cdcdcdcdcdcd",
            verification: .init(
                url: "http://web1",
                expectedCommit: commit,
                servedCommit: commit,
                revision: probe("/REVISION", 200, commit + "\n"),
                checks: [probe("/about.php", 200, "<h1>About</h1>\nme")]
            ),
            note: nil,
            rolledBack: false
        )
        host.phpErrorLines = [
            "[01-Dec-2026 22:00:00 UTC] PHP Warning: Undefined variable $x in /srv/devsys/blog/revisions/0002-abababababab/about.php on line 3"
        ]
        host.commands = [
            .init(
                step: "build",
                commands: ["composer install --no-dev -o"],
                output: "$ composer install --no-dev -o\nGenerating optimized autoload files\n"
            )
        ]
        let report = DeploymentAgent.Report(
            environment: "staging",
            commit: commit,
            sequence: 2,
            tag: nil,
            tasks: ["001-about-page"],
            rollout: .init(commit: commit, hosts: [host], failure: nil, failureKind: nil),
            tasksChecked: ["001-about-page"]
        )
        let message = DeployRecorder.tagMessage(report, actor: "Ada", reason: "deploy by Ada")
        #expect(message.contains("Checked: 001-about-page"))
        #expect(message.contains("    GET /REVISION 200 12 ms \"\(commit)\""), "\(message)")
        #expect(message.contains("    GET /about.php 200 12 ms \"<h1>About</h1> me\""), "\(message)")
        #expect(
            message.contains("    PHP error log: 1 new line(s)\n      [01-Dec-2026 22:00:00 UTC] PHP Warning: Undefined variable $x"),
            "\(message)"
        )
        #expect(
            message.contains(
                "    build: composer install --no-dev -o\n      $ composer install --no-dev -o\n      Generating optimized autoload files"
            )
        )
    }
}
