/// Where and how to reach one host over SSH: the address, the account, the key devsys signs in
/// with and the known_hosts file its host key must be in.
public struct SSHHost: Sendable, Hashable {
    /// A host name or IP address.
    public var address: String
    /// The TCP port sshd listens on.
    public var port: Int
    /// The account to sign in as.
    public var user: String
    /// The private key file (ed25519 or ECDSA, without a passphrase). The public key is read from
    /// the same path plus `.pub` when that file exists, and derived from the private key otherwise.
    public var identityFile: String
    /// The OpenSSH known_hosts file the host's key must be listed in.
    public var knownHostsFile: String
    /// The longest the whole of connecting may take: TCP connect, handshake and authentication.
    public var connectTimeout: Duration
    /// The longest devsys waits for the server to answer one protocol step once connected
    /// (opening a channel, starting a command, closing it). A running command is bounded by the
    /// timeout given to `exec` instead.
    public var idleTimeout: Duration
    /// How often a keepalive is sent while waiting for a command's output.
    public var keepaliveInterval: Duration

    public init(
        address: String,
        port: Int = 22,
        user: String,
        identityFile: String,
        knownHostsFile: String,
        connectTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(30),
        keepaliveInterval: Duration = .seconds(15)
    ) {
        self.address = address
        self.port = port
        self.user = user
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.keepaliveInterval = keepaliveInterval
    }

    /// How often keepalives actually go out while waiting: `keepaliveInterval`, but at least three
    /// per `idleTimeout` (a server silent for `idleTimeout` is taken for gone), and whole seconds
    /// (libssh2 counts in seconds).
    var keepalivePeriod: Duration {
        .seconds(max(1, min(keepaliveInterval, idleTimeout / 3).milliseconds / 1000))
    }

    /// `address:port`, as errors name the host.
    public var endpoint: String { "\(address):\(port)" }

    /// The host as known_hosts names it: `[address]:port`, or just the address on port 22.
    public var knownHostsName: String { port == 22 ? address : "[\(address)]:\(port)" }
}

extension Duration {
    /// Whole milliseconds, at least 0.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return max(0, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    /// Like "1 s" or "0.25 s", for messages.
    var secondsText: String {
        let ms = milliseconds
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }
}
