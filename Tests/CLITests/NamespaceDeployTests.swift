import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An environment of two hosts, each a network namespace of its own with its own sshd and php -S
/// (DESIGN §7), deployed with `devsys deploy`: all hosts switch, or none stays switched.
@Suite struct NamespaceDeployTests {
    /// Two hosts in namespaces of their own, `prod` on both, C1 deployed; C2 is 2,000 files of
    /// random data, so its upload takes a while.
    final class Production {
        let repo: DeployRepo
        let web1: TestWebHost
        let web2: TestWebHost
        let c1: String
        let c2: String
        let c1Revisions: (web1: String?, web2: String?)

        init() throws {
            repo = try DeployRepo()
            web1 = try TestWebHost(app: DeployRepo.app, namespace: NetworkNamespace())
            do {
                web2 = try TestWebHost(app: DeployRepo.app, namespace: NetworkNamespace())
            } catch {
                web1.stop()
                throw error
            }
            do {
                try repo.configure(environments: ["prod": ["web1", "web2"]], hosts: [web1.yaml(name: "web1"), web2.yaml(name: "web2")])
                c1 = try repo.commitVersion("one")
                c2 = try repo.commitVersion("two") { app in
                    for folder in 0..<20 {
                        let url = app.appendingPathComponent("assets/\(folder)")
                        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                        for file in 0..<100 {
                            try DeployCrashTests.randomData(16 * 1024).write(to: url.appendingPathComponent("\(file).bin"))
                        }
                    }
                }
                let first = try repo.devsys("deploy", "prod", "--rev", c1)
                try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
                c1Revisions = (web1.current, web2.current)
            } catch {
                web1.stop()
                web2.stop()
                throw error
            }
        }

        var hosts: [TestWebHost] { [web1, web2] }

        /// After a deploy of C2 that stopped before any switch: both hosts serve C1 in full from the
        /// revision they had, the env ref is back on C1, and C2 has no tag and no bad mark (nothing
        /// is known to be wrong with it: a host failed).
        func expectBothOnC1() throws {
            #expect(web1.current == c1Revisions.web1)
            #expect(web2.current == c1Revisions.web2)
            for host in hosts {
                #expect(PlainHTTP.get(host.url + "/").summary == "200 " + DeployRepo.page("one"), "\(host.address)")
            }
            #expect(try repo.envRef("prod") == c1)
            #expect(try repo.tags("prod") == ["deploy/prod/0001"])
            #expect(try repo.badNote(c2) == nil)
            let revisions = try repo.revisions("prod")
            #expect(revisions.desired == c1 && revisions.live == c1)
        }

        func stop() {
            web1.stop()
            web2.stop()
        }
    }

    @Test func aDeployReachesBothHostsOrNoneWhenOneIsCutOffOrCrashesMidUpload() throws {
        let prod = try Production()
        defer { prod.stop() }
        for host in prod.hosts {
            #expect(PlainHTTP.get(host.url + "/").summary == "200 " + DeployRepo.page("one"), "\(host.address)")
            #expect(host.current?.hasPrefix("revisions/0001-") == true)
        }
        #expect(try prod.repo.tags("prod") == ["deploy/prod/0001"])

        // web2 off the network: the deploy stops before anything switched, naming web2.
        try prod.web2.namespace?.cutOff()
        let unreachable = try prod.repo.devsys("deploy", "prod", "--rev", prod.c2)
        try prod.web2.namespace?.reconnect()
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("web2 (\(prod.web2.address):22)"), "the error names the host: \(unreachable.stderr)")
        #expect(unreachable.stderr.contains("nothing was switched; refs/heads/env/prod is back on \(prod.c1.prefix(12))"), "\(unreachable.stderr)")
        try prod.expectBothOnC1()

        // web2's SSH side dies once its upload of C2 has begun: web1 got all of C2, but neither switches.
        let deploy = try spawnCommand(devsysBinary, ["deploy", "prod", "--rev", prod.c2, "--repo", prod.repo.bare.path])
        let incoming = try Self.waitForIncoming(on: prod.web2, while: deploy)
        try #require(incoming, "the upload to web2 never started: \(deploy.wait().stderr)")
        prod.web2.crashSSH()
        let failed = deploy.wait()
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("web2"), "the error names the host: \(failed.stderr)")
        #expect(!failed.stderr.contains("web1 ("), "\(failed.stderr)")
        #expect(failed.stderr.contains("nothing was switched; refs/heads/env/prod is back on \(prod.c1.prefix(12))"), "\(failed.stderr)")
        try prod.expectBothOnC1()

        // web2 back: the lock its dead deploy left is broken, and C2 reaches both hosts.
        try prod.web2.startSSH()
        let again = try prod.repo.devsys("deploy", "prod", "--rev", prod.c2)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        for host in prod.hosts {
            #expect(PlainHTTP.get(host.url + "/").summary == "200 " + DeployRepo.page("two"), "\(host.address)")
        }
        #expect(try prod.repo.tags("prod") == ["deploy/prod/0001", "deploy/prod/0002"])
    }

    /// The README's order can lead there: the web server is not started yet. That is an outage,
    /// not the commit's fault: both hosts go back, nothing is marked bad, and once the web server
    /// answers the same commit deploys without --force.
    @Test func aStoppedWebServerRollsBothBackMarksNothingAndTheCommitDeploysOnceItIsBack() throws {
        let prod = try Production()
        defer { prod.stop() }
        prod.web2.stopPHP()

        let failed = try prod.repo.devsys("deploy", "prod", "--rev", prod.c2)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("verification could not reach web2/site"), "\(failed.stderr)")
        #expect(failed.stderr.contains("an infrastructure failure, not the commit's"), "\(failed.stderr)")
        #expect(failed.stderr.contains("\(prod.c2.prefix(12)) is not marked bad"), "\(failed.stderr)")
        #expect(failed.stderr.contains("refs/heads/env/prod is back on \(prod.c1.prefix(12))"), "\(failed.stderr)")

        // Both switched, both went back: C1 served, C2's revision kept but not live.
        #expect(prod.web1.current == prod.c1Revisions.web1)
        #expect(prod.web2.current == prod.c1Revisions.web2)
        #expect(PlainHTTP.get(prod.web1.url + "/").summary == "200 " + DeployRepo.page("one"))
        for host in prod.hosts {
            let log = try String(contentsOfFile: host.appFolder + "/.devsys/log", encoding: .utf8)
            #expect(log.contains("\"action\":\"rollback\""), "\(host.address): \(log)")
        }
        #expect(try prod.repo.envRef("prod") == prod.c1)
        #expect(try prod.repo.badNote(prod.c2) == nil, "an outage marks nothing bad")
        #expect(try prod.repo.tags("prod") == ["deploy/prod/0001"])
        let events = try prod.repo.devsys("events")
        #expect(events.stdout.contains("deploy.error"), "the outcome is an event: \(events.stdout)")

        // The web server is back: the same commit deploys, no --force needed.
        try prod.web2.startPHP()
        let again = try prod.repo.devsys("deploy", "prod", "--rev", prod.c2)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        for host in prod.hosts {
            #expect(PlainHTTP.get(host.url + "/").summary == "200 " + DeployRepo.page("two"), "\(host.address)")
        }
        #expect(try prod.repo.tags("prod") == ["deploy/prod/0001", "deploy/prod/0002"])
    }

    @Test func aHostCutOffTheNetworkMidUploadIsGivenUpOnWithinAMinute() throws {
        let prod = try Production()
        defer { prod.stop() }
        let deploy = try spawnCommand(devsysBinary, ["deploy", "prod", "--rev", prod.c2, "--repo", prod.repo.bare.path])
        let incoming = try Self.waitForIncoming(on: prod.web2, while: deploy)
        try #require(incoming, "the upload to web2 never started: \(deploy.wait().stderr)")
        try prod.web2.namespace?.cutOff()
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(60)
        while !deploy.hasExited, clock.now < giveUp { usleep(100_000) }
        let gaveUp = deploy.hasExited
        if !gaveUp { kill(deploy.pid, SIGKILL) }
        try prod.web2.namespace?.reconnect()
        // The SSH layer gives a host up after `idleTimeout` (30 s) without a byte either way.
        #expect(gaveUp, "devsys deploy was still waiting for web2 60 s after it was cut off")
        let result = deploy.wait()
        #expect(result.status != 0)
        #expect(result.stderr.contains("web2 (10.213."), "\(result.stderr)")
        #expect(prod.web1.current == prod.c1Revisions.web1)
        #expect(prod.web2.current == prod.c1Revisions.web2)
        #expect(PlainHTTP.get(prod.web1.url + "/").summary == "200 " + DeployRepo.page("one"))
    }

    /// Waits (up to 60 s of monotonic time) for a `.incoming-*` folder on `host`, the sign its upload has begun.
    static func waitForIncoming(on host: TestWebHost, while deploy: ChildProcess) throws -> Bool {
        let revisions = host.appFolder + "/revisions"
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(60)
        while clock.now < giveUp, !deploy.hasExited {
            if (try? FileManager.default.contentsOfDirectory(atPath: revisions))?.contains(where: { $0.hasPrefix(".incoming-") }) == true {
                return true
            }
            usleep(2_000)
        }
        return false
    }
}
