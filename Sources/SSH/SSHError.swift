import CSSH2

/// A failed SSH operation: libssh2's result code and message (captured right after the failing
/// call), the call, the host it was talking to and what kind of failure it is.
///
/// `description` reads like `127.0.0.1:2222: libssh2_userauth_publickey_fromfile_ex: … (code -18)`,
/// with advice on what to do for the failures a user can fix.
public struct SSHError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The outcomes callers branch on; everything else is `.other`.
    public enum Kind: Sendable, Hashable {
        /// The TCP connection could not be made (refused, unreachable, name not found, timed out).
        case connect
        /// The SSH handshake failed (no common algorithm, not an SSH server, connection dropped).
        case handshake
        /// The server's host key is not in the known_hosts file; carries its `SHA256:…` fingerprint.
        case hostKeyUnknown(fingerprint: String)
        /// known_hosts holds a different key for this host; carries the server's new fingerprint.
        case hostKeyChanged(fingerprint: String)
        /// The server refused the identity, or the key file could not be used.
        case authentication
        /// The identity is an RSA key, which libssh2 1.10 cannot use against OpenSSH 8.8 and later.
        case rsaKeyUnsupported
        /// Connecting, the handshake, or a command took longer than allowed.
        case timeout
        /// A channel could not be opened, a command could not be started, or its stream broke.
        case channel
        /// Any other failure; see `code` and `message`.
        case other
    }

    /// libssh2's return code (`LIBSSH2_ERROR_*`, e.g. -18 for a refused key), or an `errno` for
    /// socket failures, or 0 when devsys itself found the problem.
    public var code: Int32
    /// The message, as libssh2, the system or devsys worded it, with advice where there is some.
    public var message: String
    /// The call that failed, e.g. `libssh2_session_handshake` or `connect`.
    public var function: String
    /// The host, as `address:port`.
    public var host: String
    /// What kind of failure this is.
    public var kind: Kind

    /// Makes an error by hand.
    public init(code: Int32 = 0, message: String, function: String, host: String, kind: Kind) {
        self.code = code
        self.message = message
        self.function = function
        self.host = host
        self.kind = kind
    }

    public var description: String { "\(host): \(function): \(message) (code \(code))" }

    /// Captures libssh2's last error for `function`, which returned `code`.
    static func last(_ session: OpaquePointer, _ code: Int32, _ function: String, host: String, kind: Kind = .other) -> SSHError {
        var text: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let lastCode = libssh2_session_last_error(session, &text, &length, 0)
        var message = text.map { String(cString: $0) } ?? ""
        if message.isEmpty { message = "unknown error" }
        return SSHError(code: code < 0 ? code : lastCode, message: message, function: function, host: host, kind: kind)
    }

    static let rsaAdvice =
        "libssh2 1.10 cannot sign with rsa-sha2 (the only RSA signatures OpenSSH accepts): use an ed25519 or ECDSA key (ssh-keygen -t ed25519)"
}
