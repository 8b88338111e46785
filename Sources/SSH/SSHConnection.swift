import CSSH2
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP socket and the libssh2 session on it, after the handshake: the single owner of both,
/// which disconnects, frees the session and closes the socket when it goes away.
///
/// The session runs in non-blocking mode; every call goes through `retry`, which waits on the
/// socket with `poll` until a deadline, so no call can hang past its timeout.
final class SSHConnection {
    let host: SSHHost
    let socket: Int32
    let session: OpaquePointer
    /// When the socket last became ready: the server sent something, or took what we sent. A
    /// server that answers neither data nor keepalives for `host.idleTimeout` is gone.
    var lastActivity = ContinuousClock.now

    /// Connects to `host` and completes the SSH handshake, all within `host.connectTimeout`
    /// (measured from `deadline`). Throws `.connect`, `.timeout` or `.handshake`.
    init(host: SSHHost, deadline: ContinuousClock.Instant) throws {
        LibSSH2.initialize()
        self.host = host
        let socket = try Self.connectSocket(host, deadline: deadline)
        guard let session = devsys_ssh2_session_init() else {
            close(socket)
            throw SSHError(message: "cannot allocate a session", function: "libssh2_session_init_ex", host: host.endpoint, kind: .other)
        }
        self.socket = socket
        self.session = session
        libssh2_session_set_blocking(session, 0)
        // Unsupported names are dropped by libssh2; the list is never empty.
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, KnownHosts.preferredAlgorithms(for: host))
        // After this, `deinit` cleans up whatever fails below.
        _ = try retry("libssh2_session_handshake", deadline: deadline, kind: .handshake) {
            libssh2_session_handshake(session, socket)
        }
        let interval = Int32(clamping: host.keepalivePeriod.milliseconds / 1000)
        libssh2_keepalive_config(session, 1, UInt32(interval))
    }

    deinit {
        // Bounded, blocking goodbye: a server that stopped answering must not hold us here.
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, 2000)
        _ = devsys_ssh2_session_disconnect(session, "devsys closing")
        // With the socket shut down, freeing cannot wait on channels of abandoned commands.
        shutdown(socket, Int32(SHUT_RDWR))
        libssh2_session_free(session)
        close(socket)
    }

    // MARK: Waiting

    /// Runs `call` until it stops returning `LIBSSH2_ERROR_EAGAIN`, waiting on the socket in
    /// between; throws `.timeout` at `deadline` and `kind` (with libssh2's message) on failure.
    @discardableResult
    func retry(_ function: String, deadline: ContinuousClock.Instant?, kind: SSHError.Kind, _ call: () -> Int32) throws -> Int32 {
        while true {
            let code = call()
            if code == LIBSSH2_ERROR_EAGAIN {
                try waitForSocket(until: deadline, function: function)
                continue
            }
            if code < 0 { throw SSHError.last(session, code, function, host: host.endpoint, kind: kind) }
            return code
        }
    }

    /// Waits until the socket is ready in the direction libssh2 is blocked on, or throws `.timeout`
    /// at `deadline` (nil: no deadline). Returns false when it woke up because `maximum` passed.
    @discardableResult
    func waitForSocket(until deadline: ContinuousClock.Instant?, maximum: Duration? = nil, function: String) throws -> Bool {
        var wait = -1
        if let deadline {
            let remaining = deadline - .now
            if remaining <= .zero { throw timeout(function) }
            wait = max(1, remaining.milliseconds)
        }
        if let maximum { wait = wait < 0 ? maximum.milliseconds : min(wait, maximum.milliseconds) }
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        let ready = poll(&descriptor, 1, Int32(clamping: wait))
        if ready > 0 { lastActivity = .now }
        if ready < 0 && errno != EINTR {
            throw SSHError(code: errno, message: String(cString: strerror(errno)), function: "poll", host: host.endpoint, kind: .other)
        }
        if ready == 0, let deadline, deadline <= .now { throw timeout(function) }
        return ready != 0
    }

    /// Counts bytes waiting on the socket as activity, before libssh2 reads them unseen (the
    /// answer to a keepalive is consumed inside libssh2's read calls).
    func noteIncomingData() {
        var byte: UInt8 = 0
        if recv(socket, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) > 0 { lastActivity = .now }
    }

    private func timeout(_ function: String) -> SSHError {
        SSHError(
            code: LIBSSH2_ERROR_TIMEOUT,
            message: "the server did not answer in time; is \(host.endpoint) an SSH server, and reachable?",
            function: function,
            host: host.endpoint,
            kind: .timeout
        )
    }

    // MARK: Host key

    /// The server's host key: its known_hosts type name, the raw key blob and libssh2's type.
    func hostKey() throws -> (type: String, key: Data, libssh2Type: Int32) {
        var length = 0
        var type: Int32 = 0
        guard let pointer = libssh2_session_hostkey(session, &length, &type) else {
            throw SSHError.last(session, -1, "libssh2_session_hostkey", host: host.endpoint, kind: .handshake)
        }
        let key = Data(bytes: pointer, count: length)
        let name: String
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_ED25519: name = "ssh-ed25519"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: name = "ecdsa-sha2-nistp256"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: name = "ecdsa-sha2-nistp384"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: name = "ecdsa-sha2-nistp521"
        case LIBSSH2_HOSTKEY_TYPE_RSA: name = "ssh-rsa"
        case LIBSSH2_HOSTKEY_TYPE_DSS: name = "ssh-dss"
        default: name = "unknown"
        }
        return (name, key, type)
    }

    /// The server's host key fingerprint as OpenSSH prints it: `SHA256:` and unpadded base64.
    func hostKeyFingerprint() throws -> String {
        guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else {
            throw SSHError.last(session, -1, "libssh2_hostkey_hash", host: host.endpoint, kind: .handshake)
        }
        return HostKeyFingerprint.of(hash: Data(bytes: hash, count: 32))
    }

    // MARK: TCP

    private static func systemSocket(_ family: Int32, _ type: Int32, _ proto: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.socket(family, type, proto)
        #else
        Darwin.socket(family, type, proto)
        #endif
    }

    /// A connected, non-blocking TCP socket to `host`, trying each address the name resolves to.
    private static func connectSocket(_ host: SSHHost, deadline: ContinuousClock.Instant) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host.address, String(host.port), &hints, &list)
        guard resolved == 0, let list else {
            throw SSHError(
                code: resolved,
                message: "cannot resolve '\(host.address)': \(String(cString: gai_strerror(resolved)))",
                function: "getaddrinfo",
                host: host.endpoint,
                kind: .connect
            )
        }
        defer { freeaddrinfo(list) }
        var lastError = SSHError(message: "no address to connect to", function: "connect", host: host.endpoint, kind: .connect)
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = systemSocket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            if fd < 0 { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            // Small commands are request/response; Nagle would add delays to each.
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var failure = connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 ? 0 : errno
            if failure == EINPROGRESS {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let remaining = deadline - .now
                let ready = remaining > .zero ? poll(&descriptor, 1, Int32(clamping: max(1, remaining.milliseconds))) : 0
                if ready == 0 {
                    close(fd)
                    throw SSHError(
                        code: ETIMEDOUT,
                        message: "connecting timed out after \(host.connectTimeout.secondsText); is the host up and the port open?",
                        function: "connect",
                        host: host.endpoint,
                        kind: .timeout
                    )
                }
                var socketError: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                failure = getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &size) == 0 ? socketError : errno
            }
            if failure == 0 { return fd }
            close(fd)
            lastError = SSHError(
                code: failure,
                message: "cannot connect: \(String(cString: strerror(failure))); is sshd running on \(host.endpoint)?",
                function: "connect",
                host: host.endpoint,
                kind: .connect
            )
        }
        throw lastError
    }
}
