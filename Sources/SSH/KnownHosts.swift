import CSSH2
import Foundation

/// Strict host key checking against an OpenSSH known_hosts file, through libssh2's knownhost API.
enum KnownHosts {
    /// Throws unless known_hosts lists the server's current key for `connection.host`:
    /// `.hostKeyUnknown` when the host is not listed (or the file is missing), `.hostKeyChanged`
    /// when it is listed with other keys only.
    static func verify(_ connection: SSHConnection) throws {
        let host = connection.host
        let (type, key, _) = try connection.hostKey()
        let fingerprint = try connection.hostKeyFingerprint()
        guard let known = libssh2_knownhost_init(connection.session) else {
            throw SSHError.last(connection.session, -1, "libssh2_knownhost_init", host: host.endpoint)
        }
        defer { libssh2_knownhost_free(known) }
        // Line by line rather than `libssh2_knownhost_readfile`, which stops at the first line it
        // cannot parse (a key type libssh2 1.10 does not know, like sk-ssh-ed25519) and would
        // silently drop every host listed after it.
        if let text = try? String(contentsOfFile: host.knownHostsFile, encoding: .utf8) {
            for line in text.split(whereSeparator: \.isNewline) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("@") { continue }
                _ = trimmed.withCString { libssh2_knownhost_readline(known, $0, strlen($0), LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
            }
        }
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        // Key type 0 compares with every key listed for the host, whatever its type: a host known
        // by an ECDSA key that now shows an ed25519 one counts as changed, as it should.
        let typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW
        let result = key.withUnsafeBytes { bytes in
            libssh2_knownhost_checkp(
                known,
                host.address,
                Int32(host.port),
                bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                bytes.count,
                typemask,
                &entry
            )
        }
        switch result {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
            throw SSHError(
                message: "host key of \(host.endpoint) is not in \(host.knownHostsFile): \(type) \(fingerprint) ; "
                    + "if that is the host's key, run 'devsys hosts trust HOST'",
                function: "libssh2_knownhost_checkp",
                host: host.endpoint,
                kind: .hostKeyUnknown(fingerprint: fingerprint)
            )
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            var old = "another key"
            if let stored = entry?.pointee.key.map({ String(cString: $0) }), let blob = Data(base64Encoded: stored) {
                old = HostKeyFingerprint.of(key: blob)
            }
            throw SSHError(
                message: "HOST KEY OF \(host.endpoint) HAS CHANGED: \(host.knownHostsFile) lists \(old), the server shows \(type) \(fingerprint). "
                    + "Refusing to connect: someone may be intercepting the connection, or the host was reinstalled. "
                    + "If the change is expected, remove the old line (ssh-keygen -f \(host.knownHostsFile) -R '\(host.knownHostsName)') "
                    + "and run 'devsys hosts trust HOST'",
                function: "libssh2_knownhost_checkp",
                host: host.endpoint,
                kind: .hostKeyChanged(fingerprint: fingerprint)
            )
        default:
            throw SSHError.last(connection.session, -1, "libssh2_knownhost_checkp", host: host.endpoint)
        }
    }

    /// The host key algorithms to offer, best first: the types known_hosts lists for `host` (by
    /// plain name), then OpenSSH's default order. libssh2 1.10 would otherwise pick ECDSA over
    /// ed25519 and report a changed key for a host that `ssh` recorded by its ed25519 key.
    static func preferredAlgorithms(for host: SSHHost) -> String {
        var types: [String] = []
        if let text = try? String(contentsOfFile: host.knownHostsFile, encoding: .utf8) {
            for line in text.split(whereSeparator: \.isNewline) {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 3, !fields[0].hasPrefix("#"), !fields[0].hasPrefix("@") else { continue }
                let names = fields[0].split(separator: ",").map(String.init)
                if names.contains(host.knownHostsName) || (host.port == 22 && names.contains(host.address)) {
                    types.append(String(fields[1]))
                }
            }
        }
        let defaults = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
        var ordered: [String] = []
        for type in types + defaults where defaults.contains(type) && !ordered.contains(type) { ordered.append(type) }
        return ordered.joined(separator: ",")
    }

    /// Appends `name type base64(key)` to the file at `path` atomically (a new file replaces the
    /// old by rename), creating the file and its folder if missing.
    static func append(name: String, type: String, key: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var contents = (try? Data(contentsOf: url)) ?? Data()
        if let last = contents.last, last != UInt8(ascii: "\n") { contents.append(UInt8(ascii: "\n")) }
        contents.append(Data("\(name) \(type) \(key.base64EncodedString())\n".utf8))
        try contents.write(to: url, options: .atomic)
    }
}
