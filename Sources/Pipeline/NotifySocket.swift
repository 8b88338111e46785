import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The wake-up line between `devsys notify` (run by the post-receive hook) and a running
/// controller: a Unix datagram socket in the state directory. A datagram carries no data that
/// matters; it only says "look at git again". Sending never blocks and never fails a push: with no
/// controller listening, `send` quietly returns false.
public enum NotifySocket {
    /// Sends one wake-up datagram to the socket at `url`. Returns whether a listener took it.
    @discardableResult
    public static func send(to url: URL) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
        return withAddress(url) { address, length in
            sendto(descriptor, "!", 1, 0, address, length) == 1
        } ?? false
    }

    /// A bound socket that a controller waits on.
    public final class Listener: Sendable {
        private let descriptor: Int32
        public let url: URL

        /// Binds the socket at `url`, replacing a stale one left by a killed controller.
        /// - Throws: `NotifySocketError` when the path is too long or cannot be bound.
        public init(url: URL) throws {
            self.url = url
            unlink(url.path)
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            guard descriptor >= 0 else { throw NotifySocketError(path: url.path, reason: String(cString: strerror(errno))) }
            let bound = NotifySocket.withAddress(url) { address, length in bind(descriptor, address, length) == 0 }
            guard bound == true else {
                let reason = bound == nil ? "the path is longer than a Unix socket allows; use a shorter --state" : String(cString: strerror(errno))
                close(descriptor)
                throw NotifySocketError(path: url.path, reason: reason)
            }
            _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
        }

        deinit {
            close(descriptor)
            unlink(url.path)
        }

        /// Blocks the calling thread until a wake-up arrives or `timeout` passes; drains every
        /// pending datagram. Returns whether one arrived.
        public func wait(timeout: TimeInterval) -> Bool {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(max(0, min(timeout, 3600)) * 1000)
            guard poll(&poller, 1, milliseconds) > 0 else { return false }
            var byte: UInt8 = 0
            var woke = false
            while recv(descriptor, &byte, 1, 0) >= 0 { woke = true }
            return woke
        }
    }

    /// Calls `body` with a `sockaddr_un` for `url`; nil when the path does not fit.
    static func withAddress<T>(_ url: URL, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(url.path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path)
            buffer[path.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

public struct NotifySocketError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot listen for notifications on \(path): \(reason)" }
}
