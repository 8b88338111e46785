import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `devsys deploy` killed with SIGKILL in the middle of an upload over SSH: the host keeps serving
/// the old revision in full, and the next deploy goes through the lock the dead one left behind.
@Suite struct DeployCrashTests {
    @Test func aDeployKilledMidUploadLeavesTheSiteAloneAndTheNextDeployCompletes() throws {
        let repo = try DeployRepo()
        let host = try TestWebHost(app: DeployRepo.app)
        defer { host.stop() }
        try repo.configure(environments: ["staging": ["web1"]], hosts: [host.yaml(name: "web1")])
        let c1 = try repo.commitVersion("one")
        // 2,000 files of random data (32 MB): the upload takes long enough to be cut.
        let c2 = try repo.commitVersion("two") { app in
            for folder in 0..<20 {
                let url = app.appendingPathComponent("assets/\(folder)")
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                for file in 0..<100 {
                    try Self.randomData(16 * 1024).write(to: url.appendingPathComponent("\(file).bin"))
                }
            }
        }
        let first = try repo.devsys("deploy", "staging", "--rev", c1)
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        let live = try #require(host.current)
        #expect(PlainHTTP.get(host.url + "/").body == DeployRepo.page("one"))

        let revisions = host.appFolder + "/revisions"
        let deploy = try spawnCommand(devsysBinary, ["deploy", "staging", "--rev", c2, "--repo", repo.bare.path])
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(60)
        var incoming: String?
        while incoming == nil, clock.now < giveUp, !deploy.hasExited {
            incoming = (try? FileManager.default.contentsOfDirectory(atPath: revisions))?.first { $0.hasPrefix(".incoming-") }
            if incoming == nil { usleep(2_000) }
        }
        try #require(incoming != nil, "the upload never started: \(deploy.wait().stderr)")
        // Let some of the tar stream arrive, then kill.
        usleep(50_000)
        kill(deploy.pid, SIGKILL)
        let killed = deploy.wait()
        #expect(killed.status == 128 + SIGKILL, "devsys was still uploading when killed: \(killed.stdout)\(killed.stderr)")

        // The host: still on C1, served in full; no C2 revision folder; the dead deploy's lock left.
        #expect(host.current == live)
        #expect(PlainHTTP.get(host.url + "/").summary == "200 " + DeployRepo.page("one"))
        let folders = try FileManager.default.contentsOfDirectory(atPath: revisions)
        #expect(!folders.contains { $0.hasSuffix(String(c2.prefix(12))) && !$0.hasPrefix(".") }, "no complete C2 revision: \(folders)")
        let owner = try String(contentsOfFile: host.appFolder + "/.devsys/lock/owner", encoding: .utf8)
        #expect(owner.contains("\"pid\":\(deploy.pid)"), "\(owner)")

        // The next deploy breaks the dead process's lock at once and completes.
        let next = try repo.devsys("deploy", "staging", "--rev", c2)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(PlainHTTP.get(host.url + "/").summary == "200 " + DeployRepo.page("two"))
        #expect(PlainHTTP.get(host.url + "/assets/7/42.bin").status == 200)
        #expect(!FileManager.default.fileExists(atPath: host.appFolder + "/.devsys/lock"))
        let log = try String(contentsOfFile: host.appFolder + "/.devsys/log", encoding: .utf8)
        #expect(log.contains("\"action\":\"lock-broken\""), "\(log)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: revisions).allSatisfy { !$0.hasPrefix(".incoming-") })
        #expect(try repo.tags("staging") == ["deploy/staging/0001", "deploy/staging/0002"])
        #expect(try repo.revisions("staging").live == c2)
    }

    static func randomData(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var data = Data(count: count)
        data.withUnsafeMutableBytes { buffer in
            let words = buffer.bindMemory(to: UInt64.self)
            for index in words.indices { words[index] = generator.next() }
        }
        return data
    }
}
