import Foundation
import NIOCore
import NIOPosix

/// A TCP probe on NIO: connect to `host:port`, optionally send a line and wait for an answer that
/// contains what is expected — a database port, an SMTP banner, a Redis `PING`. Async, never
/// blocking a thread; never throws: a failure is in the result.
public enum TCPProbe {
    public struct Result: Sendable, Equatable {
        public var connected: Bool
        /// What the peer sent before the probe ended, at most 4 KiB.
        public var received: String
        /// Nil when the probe passed.
        public var failure: String?
        public var latencyMs: Int

        public var passed: Bool { failure == nil }
    }

    /// Connects within `timeout`; with `send`, writes it; with `expect`, reads until the answer
    /// contains it (or the peer closes, or the time is up).
    public static func check(host: String, port: Int, send: String? = nil, expect: String? = nil, timeout: Duration) async -> Result {
        let start = ContinuousClock.now
        let milliseconds = { @Sendable in (ContinuousClock.now - start).milliseconds }
        let nanoseconds = timeout.nanoseconds
        let deadline = NIODeadline.now() + .nanoseconds(nanoseconds)
        // One loop for the connection and the collector, so what it gathers is touched on that loop only.
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let collector = Collector(expect: expect, eventLoop: loop)
        // Whatever way the probe ends, its promise is fulfilled (NIO traps on a dropped one).
        defer { collector.finish() }
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.nanoseconds(nanoseconds))
                .channelInitializer { channel in channel.pipeline.addHandler(collector) }
                .connect(host: host, port: port)
                .get()
        } catch {
            return Result(connected: false, received: "", failure: "could not connect to \(host):\(port): \(error)", latencyMs: milliseconds())
        }
        defer { channel.close(promise: nil) }
        if let send {
            do {
                try await channel.writeAndFlush(ByteBuffer(string: send)).get()
            } catch {
                return Result(connected: true, received: "", failure: "could not send to \(host):\(port): \(error)", latencyMs: milliseconds())
            }
        }
        guard let expect else { return Result(connected: true, received: "", failure: nil, latencyMs: milliseconds()) }
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) { collector.finish() }
        let received = (try? await collector.done.futureResult.get()) ?? ""
        timer.cancel()
        let failure = received.contains(expect) ? nil : "\(host):\(port) did not answer '\(expect)' within \(timeout) (got '\(received.prefix(200))')"
        return Result(connected: true, received: received, failure: failure, latencyMs: milliseconds())
    }

    /// Gathers what the peer sends until it contains `expect`, the peer closes, or `finish()`.
    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let expect: String?
        let done: EventLoopPromise<String>
        // Touched on the channel's event loop only (`finish` hops there).
        private var text = ""
        private var finished = false
        private let loop: any EventLoop

        init(expect: String?, eventLoop: any EventLoop) {
            self.expect = expect
            self.loop = eventLoop
            self.done = eventLoop.makePromise()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if text.utf8.count < 4096, let more = buffer.readString(length: buffer.readableBytes) { text += more }
            if let expect, text.contains(expect) { end() }
        }

        func channelInactive(context: ChannelHandlerContext) {
            end()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            end()
            context.close(promise: nil)
        }

        func finish() {
            loop.execute { self.end() }
        }

        /// Fulfils `done` once, with what came so far.
        private func end() {
            guard !finished else { return }
            finished = true
            done.succeed(text)
        }
    }
}
