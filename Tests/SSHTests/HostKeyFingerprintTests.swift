import Foundation
import TestSupport
import Testing

@testable import SSH

@Suite("Host key fingerprints")
struct HostKeyFingerprintTests {
    @Test("a key read from known_hosts gets the fingerprint ssh-keygen shows for it")
    func matchesSSHKeygen() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fingerprint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for type in ["ed25519", "ecdsa"] {
            let key = folder.appendingPathComponent(type).path
            try SSHDServer.keygen(key, type: type)
            let blob = try #require(Data(base64Encoded: String(String(contentsOfFile: key + ".pub", encoding: .utf8).split(separator: " ")[1])))
            let expected = try SSHDServer.run("/usr/bin/ssh-keygen", ["-lf", key + ".pub"]).split(separator: " ")[1]
            #expect(HostKeyFingerprint.of(key: blob) == String(expected))
        }
    }

    @Test("a digest is printed as OpenSSH does: SHA256: and base64 without padding")
    func formatsDigest() {
        // SHA-256 of nothing, whose base64 ends in one '='.
        #expect(HostKeyFingerprint.of(key: Data()) == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")
        #expect(HostKeyFingerprint.of(hash: Data(repeating: 0xff, count: 32)) == "SHA256://////////////////////////////////////////8")
    }
}
