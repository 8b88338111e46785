import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A GET through AsyncHTTPClient, as a probe makes it: no caches, no cookies, no redirects followed
/// (a check for a 302 sees the 302), one connection per request (`Connection: close`), so every
/// answer is what the server sent for that request — a web server started again is never met on a
/// stale pooled connection. Deploy verification asks from a rollout's plain thread (`get`); the
/// monitor's checks ask from async code (`fetch`). Never throws: a failure is in the response.
public enum HTTPProbe {
    public struct Response: Sendable {
        public var status: Int?
        public var headers: [(name: String, value: String)]
        public var body: Data
        /// Why there is no answer: `could not connect: …`, `timed out before any response …`.
        public var error: String?
        /// From sending the request to the whole body.
        public var latencyMs: Int
    }

    /// One client for the process, on NIO's shared event loops.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        // Checks compare the body as the host sent it; nothing asks for compression either.
        configuration.decompression = .disabled
        // Fail at once when nothing listens: a verifier waits and asks again itself, with
        // backoff; the client's own retries would hold each request until its deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// The request, asked from async code.
    public static func fetch(
        _ url: String,
        method: String = "GET",
        headers: [(String, String)] = [],
        body: Data? = nil,
        timeout: Duration
    ) async -> Response {
        // `send` recovers every failure into the response: the future never fails.
        (try? await send(url, method: method, headers: headers, body: body, timeout: timeout).get())
            ?? Response(status: nil, headers: [], body: Data(), error: "the request was not sent", latencyMs: 0)
    }

    /// A GET, asked from a plain thread (never an event loop's): it blocks until the answer.
    public static func get(_ url: String, timeout: Duration) -> Response {
        (try? send(url, method: "GET", headers: [], body: nil, timeout: timeout).wait())
            ?? Response(status: nil, headers: [], body: Data(), error: "the request was not sent", latencyMs: 0)
    }

    private static func send(_ url: String, method: String, headers: [(String, String)], body: Data?, timeout: Duration) -> EventLoopFuture<Response>
    {
        let loop = client.eventLoopGroup.any()
        var request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: HTTPMethod(rawValue: method), body: body.map { .data($0) })
        } catch {
            return loop.makeSucceededFuture(Response(status: nil, headers: [], body: Data(), error: "not a URL: \(url)", latencyMs: 0))
        }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.replaceOrAdd(name: "Connection", value: "close")
        request.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache")
        let start = ContinuousClock.now
        let milliseconds = { @Sendable in (ContinuousClock.now - start).milliseconds }
        let nanoseconds = timeout.nanoseconds
        return client.execute(request: request, deadline: .now() + .nanoseconds(nanoseconds)).map { response in
            Response(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: response.body.map { Data($0.readableBytesView) } ?? Data(),
                error: nil,
                latencyMs: milliseconds()
            )
        }.recover { error in
            Response(status: nil, headers: [], body: Data(), error: describe(error), latencyMs: milliseconds())
        }
    }

    /// What went wrong, in words a person reads in a deploy report or a check's result.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            return "timed out before any response (\(error))"
        case let error as IOError:
            return "could not connect: \(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))"
        case let error as NIOConnectionError:
            return "could not connect: " + (error.connectionErrors.first.map { "\($0.error)" } ?? "\(error)")
        default:
            return "\(error)"
        }
    }
}
