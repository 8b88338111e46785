import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `php -S 127.0.0.1:<free port> deploy/php-router.php` with `DEVSYS_APP_ROOT`, stopped by `stop()`.
public final class PHPServer: @unchecked Sendable {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    public let url: String
    public let port: Int
    private let process: ChildProcess

    /// The repository's `deploy/php-router.php`.
    public static var routerPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/php-router.php").path
    }

    /// Starts php -S serving `appRoot` (the app folder holding `current`) and waits until it
    /// answers HTTP. Throws `TestFailure` when it does not within 10 s.
    public init(appRoot: String) throws {
        let port = try SSHDServer.freePort()
        self.port = port
        url = "http://127.0.0.1:\(port)"
        process = try ChildProcess(
            "/usr/bin/php",
            ["-S", "127.0.0.1:\(port)", Self.routerPath],
            environment: ["DEVSYS_APP_ROOT": appRoot, "PATH": "/usr/bin:/bin"]
        )
        let deadline = Date().addingTimeInterval(10)
        while !Self.answersHTTP(port: port) {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw TestFailure("php -S did not answer on \(url)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    public func stop() {
        // SIGKILL: php -S does not always end on SIGTERM.
        process.stop(signal: SIGKILL)
    }

    /// Whether something on `port` answers `GET /` with an HTTP status line.
    private static func answersHTTP(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = SSHDServer.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let request = Array("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count >= 5 && buffer[0..<5] == Array("HTTP/".utf8)[0..<5]
    }
}
