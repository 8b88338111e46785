import Foundation
import SSH
import TestSupport
import Testing

@Suite("SSH sessions against a real sshd")
struct SSHSessionTests {
    @Test("exec returns stdout, stderr and the exit status")
    func execCapturesOutputAndStatus() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let session = try SSHSession(host: server.host())
        let result = try session.exec("echo hi; echo err >&2; exit 3")
        #expect(result.stdoutText == "hi\n")
        #expect(result.stderrText == "err\n")
        #expect(result.status == 3)
        #expect(!result.succeeded)
    }

    @Test("5 MB streamed to sha256sum arrive intact")
    func streamsLargeInput() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let session = try SSHSession(host: server.host())
        var generator = SystemRandomNumberGenerator()
        let payload = Data((0..<5_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let local = try SSHDServer.run("/usr/bin/sha256sum", ["-"], input: payload).prefix(64)
        let result = try session.exec("sha256sum -", timeout: .seconds(60)) { input in
            var offset = 0
            while offset < payload.count {
                let end = min(offset + 100_000, payload.count)
                try input.write(payload[offset..<end])
                offset = end
            }
        }
        #expect(result.succeeded, "\(result.stderrText)")
        #expect(result.stdoutText.prefix(64) == local)
    }

    @Test("stdin data as a whole: a tar made with the tar CLI unpacks on the host")
    func unpacksTarFromStdin() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let source = server.folder.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: source.appendingPathComponent("app/lib"), withIntermediateDirectories: true)
        try "<?php echo 1;\n".write(to: source.appendingPathComponent("app/index.php"), atomically: true, encoding: .utf8)
        try "<?php function util() {}\n".write(to: source.appendingPathComponent("app/lib/util.php"), atomically: true, encoding: .utf8)
        let archive = server.folder.appendingPathComponent("tree.tar").path
        try SSHDServer.run("/usr/bin/tar", ["-cf", archive, "-C", source.path, "."])
        let target = server.folder.appendingPathComponent("unpacked").path
        let session = try SSHSession(host: server.host())
        let result = try session.exec("mkdir -p \(target) && tar -x -C \(target)", stdin: try Data(contentsOf: URL(fileURLWithPath: archive)))
        #expect(result.succeeded, "\(result.stderrText)")
        #expect(try String(contentsOfFile: target + "/app/lib/util.php", encoding: .utf8) == "<?php function util() {}\n")
        #expect(try session.exec("cat \(target)/app/index.php").stdoutText == "<?php echo 1;\n")
    }

    @Test("an ECDSA identity signs in")
    func ecdsaKeyWorks() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let session = try SSHSession(host: server.host(identity: server.ecdsaKey))
        #expect(try session.exec("echo ok").stdoutText == "ok\n")
    }

    @Test("an ECDSA identity without its .pub file signs in (public key derived from the private key)")
    func ecdsaKeyWithoutPublicFile() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        try FileManager.default.removeItem(atPath: server.ecdsaKey + ".pub")
        let session = try SSHSession(host: server.host(identity: server.ecdsaKey))
        #expect(try session.exec("whoami").stdoutText == server.user + "\n")
    }

    @Test("an unknown host key is refused, with the fingerprint ssh-keygen shows")
    func unknownHostKeyRefused() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let empty = server.folder.appendingPathComponent("empty_known_hosts").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let expected = try SSHDServer.run("/usr/bin/ssh-keygen", ["-lf", server.hostKey + ".pub"]).split(separator: " ")[1]
        let error = try #require(throws: SSHError.self) { try SSHSession(host: server.host(knownHosts: empty)) }
        #expect(error.kind == .hostKeyUnknown(fingerprint: String(expected)))
        #expect(error.message.contains("is not in \(empty)"))
        #expect(error.message.contains(String(expected)))
        #expect(error.message.contains("devsys hosts trust"))
        #expect(error.host == "127.0.0.1:\(server.port)")
        // A missing file is the same as an empty one.
        let missing = try #require(throws: SSHError.self) { try SSHSession(host: server.host(knownHosts: empty + ".missing")) }
        #expect(missing.kind == .hostKeyUnknown(fingerprint: String(expected)))
    }

    @Test("a changed host key is refused, naming the old and the new fingerprint")
    func changedHostKeyRefused() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let other = server.folder.appendingPathComponent("other_host").path
        try SSHDServer.keygen(other, type: "ed25519")
        let otherPublic = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
        let changed = server.folder.appendingPathComponent("changed_known_hosts").path
        try "# a comment\n[127.0.0.1]:\(server.port) \(otherPublic[0]) \(otherPublic[1])\n".write(toFile: changed, atomically: true, encoding: .utf8)
        let new = try SSHDServer.run("/usr/bin/ssh-keygen", ["-lf", server.hostKey + ".pub"]).split(separator: " ")[1]
        let old = try SSHDServer.run("/usr/bin/ssh-keygen", ["-lf", other + ".pub"]).split(separator: " ")[1]
        let error = try #require(throws: SSHError.self) { try SSHSession(host: server.host(knownHosts: changed)) }
        #expect(error.kind == .hostKeyChanged(fingerprint: String(new)))
        #expect(error.message.contains("HAS CHANGED"))
        #expect(error.message.contains(String(old)))
        #expect(error.message.contains(String(new)))
    }

    @Test("a host with ECDSA and ed25519 host keys is accepted by whichever one known_hosts lists")
    func hostKeyTypeFollowsKnownHosts() throws {
        for listed in ["ed25519", "ecdsa"] {
            let server = try SSHDServer(hostKeyTypes: listed == "ed25519" ? ["ecdsa", "ed25519"] : ["ed25519", "ecdsa"])
            defer { server.stop() }
            // known_hosts lists one of the two keys; libssh2 alone would always pick ECDSA.
            let other = server.folder.appendingPathComponent("host_\(listed)").path
            let parts = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
            try "[127.0.0.1]:\(server.port) \(parts[0]) \(parts[1])\n".write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
            let session = try SSHSession(host: server.host())
            let expected = try SSHDServer.run("/usr/bin/ssh-keygen", ["-lf", other + ".pub"]).split(separator: " ")[1]
            #expect(session.hostKeyFingerprint == String(expected))
        }
    }

    @Test("a key not in authorized_keys fails authentication, naming the host")
    func wrongUserKeyRefused() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let error = try #require(throws: SSHError.self) { try SSHSession(host: server.host(identity: server.strangerKey)) }
        #expect(error.kind == .authentication)
        #expect(error.description.contains("127.0.0.1:\(server.port)"))
        #expect(error.message.contains("authorized_keys"))
    }

    @Test("an RSA identity is refused up front with the reason")
    func rsaIdentityRefused() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let error = try #require(throws: SSHError.self) { try SSHSession(host: server.host(identity: server.rsaKey)) }
        #expect(error.kind == .rsaKeyUnsupported)
        #expect(error.message.contains("libssh2 1.10 cannot sign with rsa-sha2"))
        #expect(error.message.contains("ssh-keygen -t ed25519"))
        // Also known from the private key alone.
        try FileManager.default.removeItem(atPath: server.rsaKey + ".pub")
        let again = try #require(throws: SSHError.self) { try SSHSession(host: server.host(identity: server.rsaKey)) }
        #expect(again.kind == .rsaKeyUnsupported)
    }

    @Test("exec over its timeout fails with .timeout naming the host and the command")
    func execTimeout() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let session = try SSHSession(host: server.host())
        let start = ContinuousClock.now
        let error = try #require(throws: SSHError.self) { try session.exec("sleep 30", timeout: .seconds(1)) }
        let elapsed = ContinuousClock.now - start
        #expect(error.kind == .timeout)
        #expect(error.message.contains("'sleep'"))
        #expect(error.description.contains("127.0.0.1:\(server.port)"))
        // Well short of the command's 30 s, with room for a busy machine's scheduling.
        #expect(elapsed < .seconds(20), "took \(elapsed)")
        // The session is still usable afterwards.
        #expect(try session.exec("echo still here").stdoutText == "still here\n")
    }

    @Test("keepalive on an open session succeeds")
    func keepalive() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let session = try SSHSession(host: server.host())
        try session.keepalive()
        #expect(try session.exec("true").succeeded)
    }

    @Test("one session runs 50 commands; median latency printed")
    func reusedSession() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let session = try SSHSession(host: server.host())
        var times: [Duration] = []
        for index in 0..<50 {
            let start = ContinuousClock.now
            let result = try session.exec("echo \(index)")
            times.append(ContinuousClock.now - start)
            #expect(result.stdoutText == "\(index)\n")
        }
        let median = times.sorted()[times.count / 2]
        print("SSH exec median latency on an open session: \(median) (min \(times.min()!), max \(times.max()!))")
    }
}

@Suite("SSH connection failures and host trust")
struct SSHConnectionTests {
    @Test("a host nobody listens on fails fast with .connect naming host:port")
    func hostDown() throws {
        let port = try SSHDServer.freePort()
        let host = SSHHost(
            address: "127.0.0.1",
            port: port,
            user: "root",
            identityFile: "/nonexistent",
            knownHostsFile: "/nonexistent",
            connectTimeout: .seconds(60)
        )
        let start = ContinuousClock.now
        let error = try #require(throws: SSHError.self) { try SSHSession(host: host) }
        #expect(error.kind == .connect)
        #expect(error.host == "127.0.0.1:\(port)")
        #expect(error.description.contains("127.0.0.1:\(port)"))
        // A refusal, not the 60 s connect timeout (room for a busy machine's scheduling).
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test("a server that never sends its banner times out within the connect timeout")
    func silentServerTimesOut() throws {
        let listener = try SilentListener()
        defer { listener.stop() }
        let host = SSHHost(
            address: "127.0.0.1",
            port: listener.port,
            user: "root",
            identityFile: "/nonexistent",
            knownHostsFile: "/nonexistent",
            connectTimeout: .seconds(1)
        )
        let start = ContinuousClock.now
        let error = try #require(throws: SSHError.self) { try SSHSession(host: host) }
        let elapsed = ContinuousClock.now - start
        #expect(error.kind == .timeout)
        #expect(error.host == "127.0.0.1:\(listener.port)")
        // The 1 s connect timeout, not a hang (room for a busy machine's scheduling).
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test("scanHostKey + trust record the key; then connecting succeeds")
    func trustThenConnect() throws {
        let server = try SSHDServer()
        defer { server.stop() }
        let file = server.folder.appendingPathComponent("new/known_hosts").path
        let host = server.host(knownHosts: file)
        #expect(throws: SSHError.self) { try SSHSession(host: host) }
        let scanned = try SSHSession.scanHostKey(host: host)
        let expected = try SSHDServer.run("/usr/bin/ssh-keygen", ["-lf", server.hostKey + ".pub"]).split(separator: " ")[1]
        #expect(scanned.type == "ssh-ed25519")
        #expect(scanned.fingerprint == String(expected))
        try SSHSession.trust(host: host, key: scanned.key, type: scanned.type, knownHostsFile: file)
        let line = try String(contentsOfFile: file, encoding: .utf8)
        let hostPublic = try String(contentsOfFile: server.hostKey + ".pub", encoding: .utf8).split(separator: " ")
        #expect(line == "[127.0.0.1]:\(server.port) ssh-ed25519 \(hostPublic[1])\n")
        let session = try SSHSession(host: host)
        #expect(session.hostKeyFingerprint == String(expected))
        #expect(try session.exec("echo trusted").stdoutText == "trusted\n")
        // OpenSSH agrees with the line devsys wrote.
        let found = try SSHDServer.run("/usr/bin/ssh-keygen", ["-F", "[127.0.0.1]:\(server.port)", "-f", file])
        #expect(found.contains(String(hostPublic[1])))
    }
}
