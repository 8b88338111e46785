import Foundation
import Git
import Hosts
import Probes
import Specs
import TestSupport
import Testing

@testable import Deploy

@Suite("Serving revisions with php -S and the devsys router")
struct ServingTests {
    /// Two parts read per request, so a request that saw two revisions would show it.
    static func tree(_ label: String) -> [String: String?] {
        [
            "app/index.php": "<?php\necho 'index of \(label); ';\ninclude __DIR__ . '/part.php';\necho ' ' . trim(file_get_contents('body.txt'));\n",
            "app/part.php": "<?php echo 'part of \(label)';\n",
            "app/body.txt": String(repeating: "\(label) ", count: 200) + "\n",
            "app/style.css": "body { content: '\(label)'; }\n",
            "app/.env": "SECRET=1\n",
        ]
    }

    static func body(_ label: String) -> String {
        "index of \(label); part of \(label) " + String(repeating: "\(label) ", count: 200).trimmingCharacters(in: .whitespaces)
    }

    @Test("under continuous requests a switch serves revision 1 or 2 whole, never an error or a mix; rollback serves 1 again")
    func atomicSwitchUnderLoad() throws {
        let folder = try TempFolder("serve")
        defer { folder.remove() }
        let repo = try AppRepository(in: folder)
        let deployer = try HostDeployer(transport: LocalTransport(name: "web1"), app: "blog", root: folder.path + "/hosts/web1")
        let first = try repo.commit(Self.tree("one"))
        let one = try deployer.deploy(first, sequence: 1, source: repo.source).revision
        let server = try PHPServer(appRoot: deployer.appFolder)
        defer { server.stop() }
        let verifier = RevisionVerifier(timeout: .seconds(5), revisionAttempts: 1)
        let check = TaskSpec.HTTPProbe(path: "/index.php", status: 200, bodyContains: "index of one")
        #expect(verifier.verify(url: server.url, expectedCommit: first, checks: [check]).passed)

        let second = try repo.commit(Self.tree("two"))
        // Bounds for a hang only: a slow deploy on a busy machine must not run the client out of requests or time.
        let client = PollingClient(url: server.url + "/index.php", maxRequests: 200_000, maxTime: .seconds(120))
        client.start()
        client.waitForRequests(50)
        try deployer.deploy(second, sequence: 2, source: repo.source)
        let switchedAt = client.count
        client.waitForRequests(switchedAt + 100)
        let responses = client.stop()

        #expect(switchedAt >= 50 && responses.count >= switchedAt + 100, "requests ran before and after the switch")
        let expected: Set<String> = [Self.body("one"), Self.body("two")]
        let unexpected = responses.filter { $0.status != 200 || !expected.contains($0.body) }
        #expect(unexpected.isEmpty, "\(unexpected.prefix(3))")
        #expect(responses.contains { $0.body == Self.body("one") })
        #expect(responses.last?.body == Self.body("two"))
        // Once a request sees revision 2, none after it sees revision 1.
        if let firstNew = responses.firstIndex(where: { $0.body == Self.body("two") }) {
            #expect(responses[firstNew...].allSatisfy { $0.body == Self.body("two") })
        }
        let report = verifier.verify(url: server.url, expectedCommit: second, checks: [.init(path: "/index.php", bodyContains: "index of two")])
        #expect(report.passed, "\(report.summary)")
        #expect(report.servedCommit == second.hex)

        try deployer.withLock(reason: "rollback") { _ = try deployer.rollback(to: one) }
        #expect(server.get("/index.php").bodyText == Self.body("one"))
        let stale = verifier.verify(url: server.url, expectedCommit: second, checks: [check])
        #expect(!stale.passed)
        #expect(stale.summary.contains("does not serve \(second.hex.prefix(12))"))
        #expect(stale.servedCommit == first.hex)
        #expect(try String(contentsOfFile: deployer.logPath, encoding: .utf8).contains("\"action\":\"rollback\""))
    }

    @Test("the router serves REVISION and static files from current, runs PHP there, and hides the rest")
    func routerServesCurrentOnly() throws {
        let folder = try TempFolder("router")
        defer { folder.remove() }
        let repo = try AppRepository(in: folder)
        let deployer = try HostDeployer(transport: LocalTransport(name: "web1"), app: "blog", root: folder.path + "/hosts/web1")
        let server = try PHPServer(appRoot: deployer.appFolder)
        defer { server.stop() }
        #expect(server.get("/").status == 503, "nothing deployed yet")

        let commit = try repo.commit(Self.tree("one"))
        try deployer.deploy(commit, sequence: 1, source: repo.source)
        try sh("echo outside > \(q(deployer.appFolder + "/secret.txt"))")

        let revision = server.get("/REVISION")
        #expect(revision.status == 200)
        #expect(revision.bodyText == commit.hex + "\n")
        #expect(server.get("/").bodyText == Self.body("one"), "a folder serves its index.php")
        let css = server.get("/style.css")
        #expect(css.status == 200)
        #expect(css.bodyText.contains("'one'"))
        #expect(server.get("/.env").status == 404)
        #expect(server.get("/../secret.txt").status == 404)
        #expect(server.get("/%2e%2e/secret.txt").status == 404)
        #expect(server.get("/missing.php").status == 404)

        let report = RevisionVerifier(revisionAttempts: 1).verify(
            url: server.url,
            expectedCommit: commit,
            checks: [.init(path: "/style.css", status: 200, bodyContains: "color"), .init(path: "/missing.php", status: 200)]
        )
        #expect(report.servesExpectedRevision)
        #expect(!report.passed)
        #expect(report.checks.map(\.passed) == [false, false])
        #expect(report.checks[0].failure == "body does not contain 'color'")
        #expect(report.checks[1].status == 404)
        #expect(report.checks[1].bodySnippet == "not found\n")
        #expect(report.checks.allSatisfy { $0.latencyMs >= 0 && $0.latencyMs < 5000 })
    }

    @Test("verification tells a regression (a 5xx, a wrong body, another REVISION) from an outage (no answer); a redirect is not followed")
    func verificationFailureKinds() throws {
        let folder = try TempFolder("verify-kinds")
        defer { folder.remove() }
        let repo = try AppRepository(in: folder)
        let deployer = try HostDeployer(transport: LocalTransport(name: "web1"), app: "blog", root: folder.path + "/hosts/web1")
        var files = Self.tree("one")
        files["app/broken.php"] = "<?php http_response_code(500); echo 'database down';\n"
        files["app/login.php"] = "<?php header('Location: /dashboard.php', true, 302);\n"
        let commit = try repo.commit(files)
        try deployer.deploy(commit, sequence: 1, source: repo.source)
        let server = try PHPServer(appRoot: deployer.appFolder)
        let verifier = RevisionVerifier(timeout: .seconds(5), revisionAttempts: 1)

        let ok = verifier.verify(url: server.url, expectedCommit: commit, checks: [.init(path: "/login.php", status: 302)])
        #expect(ok.passed && ok.failureKind == nil, "the 302 itself is what a check sees: \(ok.summary)")
        let serverError = verifier.verify(url: server.url, expectedCommit: commit, checks: [.init(path: "/broken.php")])
        #expect(serverError.failureKind == .regression)
        #expect(serverError.checks[0].status == 500 && serverError.checks[0].bodySnippet == "database down")
        let wrongBody = verifier.verify(url: server.url, expectedCommit: commit, checks: [.init(path: "/style.css", bodyContains: "color")])
        #expect(wrongBody.failureKind == .regression)
        let other = try repo.commit(["app/index.php": "<?php echo 'two';\n"])
        #expect(verifier.verify(url: server.url, expectedCommit: other, checks: []).failureKind == .regression, "another REVISION served")

        server.stop()
        let down = verifier.verify(url: server.url, expectedCommit: commit, checks: [.init(path: "/broken.php")])
        #expect(down.failureKind == .infrastructure)
        #expect(down.revision.status == nil && down.revision.failure?.contains("could not connect") == true, "\(down.summary)")
    }

    @Test("provision-host.sh refuses to run without a usable public key")
    func provisionRefusesWithoutKey() throws {
        let script = URL(fileURLWithPath: PHPServer.routerPath).deletingLastPathComponent().appendingPathComponent("provision-host.sh").path
        let missing = try LocalTransport().run("sh \(q(script)) deploy /nonexistent/key.pub", timeout: .seconds(10))
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("no public key"))
        let folder = try TempFolder("provision")
        defer { folder.remove() }
        try sh("printf 'ssh-rsa AAAAB3Nza rsa@example\\n' > \(q(folder.path + "/rsa.pub"))")
        let rsa = try LocalTransport().run("sh \(q(script)) deploy \(q(folder.path + "/rsa.pub"))", timeout: .seconds(10))
        #expect(rsa.status == 1)
        #expect(rsa.stderrText.contains("no ed25519 or ECDSA public key"))
        #expect(try LocalTransport().run("sh \(q(script))", timeout: .seconds(10)).status == 2)
    }
}

extension HTTPProbe.Response {
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Requests one URL again and again on a thread of its own, keeping every response.
final class PollingClient: @unchecked Sendable {
    struct Response: CustomStringConvertible {
        var status: Int?
        var body: String
        var description: String { "\(status.map(String.init) ?? "no response") \(body.prefix(80))" }
    }

    private let url: String
    private let maxRequests: Int
    private let maxTime: Duration
    private let clock = ContinuousClock()
    private let lock = NSLock()
    private var responses: [Response] = []
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(url: String, maxRequests: Int, maxTime: Duration) {
        self.url = url
        self.maxRequests = maxRequests
        self.maxTime = maxTime
    }

    var count: Int { lock.withLock { responses.count } }

    func start() {
        Thread.detachNewThread { [self] in
            let deadline = clock.now + maxTime
            while clock.now < deadline, !lock.withLock({ stopped || responses.count >= maxRequests }) {
                let response = HTTPProbe.get(url, timeout: .seconds(5))
                lock.withLock { responses.append(Response(status: response.status, body: response.bodyText)) }
            }
            finished.signal()
        }
    }

    /// Waits until `count` responses came (or the client hit a bound).
    func waitForRequests(_ count: Int) {
        let deadline = clock.now + maxTime
        while self.count < count, clock.now < deadline, !lock.withLock({ responses.count >= maxRequests }) {
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    func stop() -> [Response] {
        lock.withLock { stopped = true }
        finished.wait()
        return lock.withLock { responses }
    }
}
