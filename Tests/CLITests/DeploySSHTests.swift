import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Deploying over SSH from the user's side: `devsys deploy`, `rollback`, `revisions`, `hosts trust`
/// and a plain `git push` of an env ref, against a real sshd on 127.0.0.1 and a real `php -S`
/// serving the host's `current` (`TestWebHost`: started with posix_spawn, not `Process`, like every
/// program these tests run; see `spawnCommand`).
@Suite struct DeploySSHTests {
    @Test func deployServesEachRevisionInFullRollsBackAndRefusesABadRevisionUntilForced() throws {
        let repo = try DeployRepo()
        let host = try TestWebHost(app: DeployRepo.app)
        defer { host.stop() }
        try repo.configure(environments: ["staging": ["web1"]], hosts: [host.yaml(name: "web1")])
        let c1 = try repo.commitVersion("one")
        let c2 = try repo.commitVersion("two")

        let first = try repo.devsys("deploy", "staging", "--rev", c1)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try repo.tags("staging") == ["deploy/staging/0001"])
        #expect(try repo.tagCommit("deploy/staging/0001") == c1)
        #expect(PlainHTTP.get(host.url + "/").body == DeployRepo.page("one"))

        // While a reader polls the site as fast as it can, the switch to C2 happens: every answer
        // is one revision or the other in full, never an error or a mix.
        let poller = SitePoller(url: host.url + "/")
        poller.start()
        let second = try repo.devsys("deploy", "staging", "--rev", c2)
        // Some answers after the deploy returned, however long the machine makes us wait for them.
        let returnedAt = poller.count
        try waitFor("answers after the deploy") { poller.count > max(returnedAt + 10, 20) }
        let answers = poller.stop()
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let expected: Set = ["200 " + DeployRepo.page("one"), "200 " + DeployRepo.page("two")]
        let wrong = answers.filter { !expected.contains($0) }
        #expect(wrong.isEmpty, "\(wrong.count) of \(answers.count) answers were neither revision in full: \(Set(wrong).prefix(5))")
        #expect(answers.count > 20, "the poller got \(answers.count) answers")
        #expect(answers.contains("200 " + DeployRepo.page("one")) && answers.last == "200 " + DeployRepo.page("two"))
        #expect(try repo.tags("staging") == ["deploy/staging/0001", "deploy/staging/0002"])

        // devsys rollback: back on C1, C2 marked bad, a new tag for C1.
        let rollback = try repo.devsys("rollback", "staging")
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        #expect(PlainHTTP.get(host.url + "/").body == DeployRepo.page("one"))
        #expect(try repo.tags("staging") == ["deploy/staging/0001", "deploy/staging/0002", "deploy/staging/0003"])
        #expect(try repo.tagCommit("deploy/staging/0003") == c1)
        let revisions = try repo.revisions("staging")
        #expect(revisions.desired == c1 && revisions.live == c1)
        #expect(revisions.revisions.first { $0.tag == "deploy/staging/0002" }?.status == "bad")
        #expect(revisions.revisions.first { $0.tag == "deploy/staging/0002" }?.bad?.contains("rolled back to deploy/staging/0001") == true)
        #expect(revisions.revisions.first { $0.tag == "deploy/staging/0003" }?.status == "live")

        // A bad revision is refused, and deployed with --force.
        let refused = try repo.devsys("deploy", "staging", "--rev", c2)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is marked bad in staging") && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(PlainHTTP.get(host.url + "/").body == DeployRepo.page("one"))
        let forced = try repo.devsys("deploy", "staging", "--rev", c2, "--force")
        #expect(forced.status == 0, "\(forced.stdout)\(forced.stderr)")
        #expect(PlainHTTP.get(host.url + "/").body == DeployRepo.page("two"))
        #expect(try repo.revisions("staging").revisions.first { $0.tag == "deploy/staging/0002" }?.status == "")

        // Plain git: push the first deploy's commit to the env ref; one reconcile brings it back.
        try repo.git(in: repo.clone, "fetch", "-q", "--tags", "origin")
        let push = try repo.gitResult(in: repo.clone, "push", "-q", "--force", "origin", "deploy/staging/0001^{commit}:refs/heads/env/staging")
        try #require(push.status == 0, "\(push.stderr)")
        let reconcile = try repo.devsys("run", "--until-idle", "--timeout", "60")
        #expect(reconcile.status == 0, "\(reconcile.stdout)\(reconcile.stderr)")
        #expect(PlainHTTP.get(host.url + "/").body == DeployRepo.page("one"))
        #expect(try repo.revisions("staging").live == c1)
    }

    @Test func hostsTrustRecordsAnUnknownKeyOnceAndRefusesAChangedOne() throws {
        let repo = try DeployRepo()
        let host = try TestWebHost(app: DeployRepo.app)
        defer { host.stop() }
        let knownHosts = repo.scratch.path("known_hosts")
        try "".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        try repo.configure(environments: ["staging": ["web1"]], hosts: [host.yaml(name: "web1", knownHosts: knownHosts)])
        _ = try repo.commitVersion("one")

        // Unknown: no deploy connects.
        let untrusted = try repo.devsys("hosts", "check")
        #expect(untrusted.status == 1, "\(untrusted.stdout)")
        #expect(untrusted.stdout.contains("web1"), "\(untrusted.stdout)")

        let trust = try repo.devsys("hosts", "trust", "web1", "--yes")
        #expect(trust.status == 0, "\(trust.stdout)\(trust.stderr)")
        #expect(trust.stdout.contains("SHA256:") && trust.stdout.contains("recorded in \(knownHosts)"), "\(trust.stdout)")
        let hostKey = try String(contentsOfFile: host.hostKey + ".pub", encoding: .utf8).split(separator: " ")
        let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
        #expect(recorded.contains("[127.0.0.1]:\(host.sshPort) \(hostKey[0]) \(hostKey[1])"), "\(recorded)")
        #expect(try repo.devsys("hosts", "check").status == 0)

        let again = try repo.devsys("hosts", "trust", "web1", "--yes")
        #expect(again.status == 0)
        #expect(again.stdout.contains("already trusted"), "\(again.stdout)")
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8) == recorded, "nothing added twice")

        // Another key listed for the address: refused, the file untouched.
        let otherKey = repo.scratch.path("other_host_key")
        try SSHDServer.keygen(otherKey, type: "ed25519")
        let other = try String(contentsOfFile: otherKey + ".pub", encoding: .utf8).split(separator: " ")
        let wrong = "[127.0.0.1]:\(host.sshPort) \(other[0]) \(other[1])\n"
        try wrong.write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let changed = try repo.devsys("hosts", "trust", "web1", "--yes")
        #expect(changed.status == 1)
        #expect(changed.stderr.contains("lists another ssh-ed25519 key") && changed.stderr.contains("ssh-keygen -R"), "\(changed.stderr)")
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8) == wrong)
        let deploy = try repo.devsys("deploy", "staging")
        #expect(deploy.status == 1, "a changed host key stops a deploy: \(deploy.stdout)")
    }
}

/// A bare control repository made with plain git and a clone to commit and push from. Its one app,
/// `site`, prints its version from ten files, so a request that mixed two revisions would show.
struct DeployRepo {
    static let app = "site"
    let scratch: Scratch
    var bare: URL { scratch.url.appendingPathComponent("control.git") }
    var clone: URL { scratch.url.appendingPathComponent("control") }

    init() throws {
        scratch = try Scratch()
        try checkCommand("/usr/bin/git", ["init", "-q", "--bare", "-b", "main", bare.path])
        try checkCommand("/usr/bin/git", ["clone", "-q", bare.path, clone.path])
        try git(in: clone, "symbolic-ref", "HEAD", "refs/heads/main")
        try scratch.write(
            "control/app/index.php",
            """
            <?php
            $parts = [];
            foreach (glob(__DIR__ . '/parts/*.txt') as $file) {
                $parts[] = trim(file_get_contents($file));
            }
            echo implode(',', $parts);

            """
        )
    }

    /// What `/` of the app serves at `version`.
    static func page(_ version: String) -> String {
        Array(repeating: version, count: 10).joined(separator: ",")
    }

    /// Writes devsys.yaml with `environments` (name → hosts) and the `hosts` lines.
    func configure(environments: [String: [String]], hosts: [String], keepRevisions: Int = 5) throws {
        let envs = environments.sorted { $0.key < $1.key }.map {
            "  \($0.key): { hosts: [\($0.value.joined(separator: ", "))], keep_revisions: \(keepRevisions) }"
        }
        try scratch.write(
            "control/devsys.yaml",
            """
            trunk: main
            apps:
              \(Self.app): { path: app }
            environments:
            \(envs.joined(separator: "\n"))
            hosts:
            \(hosts.map { "  " + $0 }.joined(separator: "\n"))

            """
        )
    }

    /// Commits the app at `version` (plus `extra` files under app/) on main, pushes, and returns the commit id.
    @discardableResult
    func commitVersion(_ version: String, extra: (URL) throws -> Void = { _ in }) throws -> String {
        for index in 0..<10 {
            try scratch.write("control/app/parts/\(String(format: "%02d", index)).txt", version + "\n")
        }
        try extra(clone.appendingPathComponent("app"))
        try git(in: clone, "add", "-A")
        try git(in: clone, "commit", "-q", "-m", "Version \(version)")
        try git(in: clone, "push", "-q", "origin", "main")
        return try git(in: clone, "rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs devsys on the bare repository.
    func devsys(_ arguments: String...) throws -> ChildProcess.Result {
        try spawnCommand(devsysBinary, arguments + ["--repo", bare.path]).wait()
    }

    /// Runs git in `folder` and requires it to succeed; returns its stdout.
    @discardableResult
    func git(in folder: URL, _ arguments: String...) throws -> String {
        try checkCommand("/usr/bin/git", ["-C", folder.path] + arguments)
    }

    /// Runs git in `folder` and returns the whole result, for commands that may fail.
    func gitResult(in folder: URL, _ arguments: String...) throws -> ChildProcess.Result {
        try spawnCommand("/usr/bin/git", ["-C", folder.path] + arguments).wait()
    }

    /// The deploy tags of `environment`, in order.
    func tags(_ environment: String) throws -> [String] {
        try git(in: bare, "tag", "-l", "deploy/\(environment)/*").split(separator: "\n").map(String.init).sorted()
    }

    func tagCommit(_ tag: String) throws -> String {
        try git(in: bare, "rev-parse", "\(tag)^{commit}").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func envRef(_ environment: String) throws -> String {
        try git(in: bare, "rev-parse", "refs/heads/env/\(environment)").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `git notes --ref=devsys/bad show <commit>`, or nil when the commit carries no bad note.
    func badNote(_ commit: String) throws -> String? {
        let shown = try gitResult(in: bare, "notes", "--ref=devsys/bad", "show", commit)
        return shown.status == 0 ? shown.stdout : nil
    }

    /// `devsys revisions ENV --json`.
    struct Revisions: Decodable {
        struct Row: Decodable {
            var tag: String
            var commit: String
            var status: String
            var bad: String?
        }
        var desired: String?
        var live: String?
        var revisions: [Row]
    }

    func revisions(_ environment: String) throws -> Revisions {
        let shown = try devsys("revisions", environment, "--json")
        try #require(shown.status == 0, "\(shown.stderr)")
        return try JSONDecoder().decode(Revisions.self, from: Data(shown.stdout.utf8))
    }
}

/// A minimal HTTP/1.0 client on a plain socket: one connection per request, no caches, no
/// keep-alive, so every answer is what the server sent for that one request.
enum PlainHTTP {
    struct Response {
        /// Nil when no HTTP answer came (refused, timed out, cut).
        var status: Int?
        var body: String
        var error: String?

        /// "200 <body>", or "error: <why>".
        var summary: String { status.map { "\($0) \(body)" } ?? "error: \(error ?? "")" }
    }

    /// GET `url` (`http://a.b.c.d:port/path`), giving up after `timeout` seconds.
    static func get(_ url: String, timeout: Int = 5) -> Response {
        guard let parsed = URL(string: url), let address = parsed.host, let port = parsed.port else {
            return Response(status: nil, body: "", error: "bad url \(url)")
        }
        let path = parsed.path.isEmpty ? "/" : parsed.path
        let fd: Int32
        do {
            fd = try TCPProbe.connect(address: address, port: port, timeout: timeout)
        } catch {
            return Response(status: nil, body: "", error: "\(error)")
        }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(address)\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else {
            return Response(status: nil, body: "", error: "send: \(String(cString: strerror(errno)))")
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            if count < 0 { return Response(status: nil, body: "", error: "recv: \(String(cString: strerror(errno)))") }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return Response(status: nil, body: text, error: "no HTTP header end") }
        let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else {
            return Response(status: nil, body: text, error: "no status line")
        }
        return Response(status: status, body: String(text[split.upperBound...]), error: nil)
    }
}

/// Polls a URL on a thread of its own as fast as it answers, recording every answer's `summary`.
final class SitePoller: @unchecked Sendable {
    let url: String
    private let lock = NSLock()
    private var answers: [String] = []
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)

    init(url: String) { self.url = url }

    /// How many answers came so far.
    var count: Int { lock.withLock { answers.count } }

    func start() {
        let thread = Thread { [self] in
            while !lock.withLock({ stopping }) {
                let answer = PlainHTTP.get(url).summary
                lock.withLock { answers.append(answer) }
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops polling and returns every answer, in order.
    func stop() -> [String] {
        lock.withLock { stopping = true }
        done.wait()
        return lock.withLock { answers }
    }
}

/// Starts `program` as the tests start every program: with posix_spawn (`ChildProcess`, not
/// Foundation's `Process`, which can hang with sshd and php -S running), the tests' fixed
/// environment, stdout and stderr captured, and no descriptor of this process inherited.
func spawnCommand(_ program: String, _ arguments: [String]) throws -> ChildProcess {
    try ChildProcess(program, arguments, environment: commandEnvironment, output: .captured, closeInheritedDescriptors: true)
}

/// Runs `program` like `spawnCommand` to its end and requires it to succeed; returns its stdout.
@discardableResult
func checkCommand(_ program: String, _ arguments: [String]) throws -> String {
    try ChildProcess.check(program, arguments, environment: commandEnvironment, closeInheritedDescriptors: true)
}
