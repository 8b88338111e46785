import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Plain TCP checks of what a test started (sshd, php -S): whether something listens on an
/// address and port, and whether it answers HTTP.
public enum TCPProbe {
    /// A TCP connection to `address:port` (dotted IPv4) whose connect, sends and receives each give
    /// up after `timeout` seconds. Close the descriptor when done.
    ///
    /// - Throws: `TestFailure` saying which call failed and why.
    public static func connect(address: String, port: Int, timeout: Int = 1) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = UInt16(port).bigEndian
        target.sin_addr.s_addr = inet_addr(address)
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestFailure("connect: \(reason)")
        }
        return fd
    }

    /// Whether something accepts a TCP connection on `address:port` within a second.
    public static func canConnect(address: String, port: Int) -> Bool {
        guard let fd = try? connect(address: address, port: port) else { return false }
        close(fd)
        return true
    }

    /// Whether `GET /` on `address:port` gets an HTTP status line within a second.
    public static func answersHTTP(address: String, port: Int) -> Bool {
        guard let fd = try? connect(address: address, port: port) else { return false }
        defer { close(fd) }
        let request = Array("GET / HTTP/1.0\r\nHost: \(address)\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count >= 5 && buffer[0..<5] == Array("HTTP/".utf8)[0..<5]
    }
}
