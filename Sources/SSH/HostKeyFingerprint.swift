import Crypto
import Foundation

/// A host key's fingerprint as OpenSSH prints it (`ssh-keygen -l`): `SHA256:` and the unpadded
/// base64 of the key blob's SHA-256. libssh2 hashes only the key of the server it is talking to;
/// the keys read from known_hosts are hashed here.
enum HostKeyFingerprint {
    /// The fingerprint of a public key blob (the base64-decoded second field of a known_hosts line).
    static func of(key: Data) -> String { of(hash: Data(SHA256.hash(data: key))) }

    /// The fingerprint of a key's SHA-256 digest (32 bytes, as `libssh2_hostkey_hash` returns it).
    static func of(hash: Data) -> String {
        var text = hash.base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return "SHA256:" + text
    }
}
