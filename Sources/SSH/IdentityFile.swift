import Foundation

/// Reads the key type of a private key file without libssh2, to refuse RSA keys with a clear
/// explanation before the server refuses them with a vague one.
enum IdentityFile {
    /// The SSH key type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, …) of the key at
    /// `privateKeyPath`, from its `.pub` file or the private key itself; nil when it cannot tell.
    static func keyType(privateKeyPath: String) -> String? {
        if let text = try? String(contentsOfFile: privateKeyPath + ".pub", encoding: .utf8),
            let first = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first
        {
            return String(first)
        }
        guard let text = try? String(contentsOfFile: privateKeyPath, encoding: .utf8) else { return nil }
        if text.contains("-----BEGIN RSA PRIVATE KEY-----") { return "ssh-rsa" }
        if text.contains("-----BEGIN EC PRIVATE KEY-----") { return "ecdsa-sha2" }
        guard text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") else { return nil }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return nil }
        return openSSHKeyType(Array(data))
    }

    /// The type in OpenSSH's key format: "openssh-key-v1\0", cipher, kdf, kdf options, the number
    /// of keys, then the first public key, whose first field is its type. That part is never encrypted.
    private static func openSSHKeyType(_ bytes: [UInt8]) -> String? {
        let magic = Array("openssh-key-v1\0".utf8)
        guard bytes.starts(with: magic) else { return nil }
        var offset = magic.count
        func string() -> [UInt8]? {
            guard offset + 4 <= bytes.count else { return nil }
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            offset += 4
            guard length >= 0, offset + length <= bytes.count else { return nil }
            defer { offset += length }
            return Array(bytes[offset..<offset + length])
        }
        guard string() != nil, string() != nil, string() != nil else { return nil }
        offset += 4  // number of keys
        guard let publicKey = string(), publicKey.count >= 4 else { return nil }
        let length = Int(publicKey[0]) << 24 | Int(publicKey[1]) << 16 | Int(publicKey[2]) << 8 | Int(publicKey[3])
        guard 4 + length <= publicKey.count else { return nil }
        return String(decoding: publicKey[4..<4 + length], as: UTF8.self)
    }
}
