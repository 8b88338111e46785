import Foundation
import Git
import Probes
import Specs

/// Checks over HTTP that a host serves a revision (DESIGN §5): `GET <url>/REVISION` must give
/// the commit id — PHP's realpath and OPcache caches can keep serving the old tree after a
/// switch — and each `http` acceptance check of the spec must pass.
///
/// A failure is one of two kinds: a *regression* (an answer that is wrong: another `REVISION`, a
/// check's status or body, a 5xx) or an *infrastructure* failure (no answer at all: the web server
/// down, the host unreachable, DNS, a timeout before any response). Only a regression is the
/// commit's fault.
public struct RevisionVerifier: Sendable {
    /// For each request.
    public var timeout: Duration
    /// `REVISION` is asked this many times before the host is said to serve an old tree (or to
    /// be unreachable); the pauses between start at `pause` and double each time.
    public var revisionAttempts: Int
    public var pause: Duration

    public init(timeout: Duration = .seconds(10), revisionAttempts: Int = 5, pause: Duration = .milliseconds(200)) {
        self.timeout = timeout
        self.revisionAttempts = max(1, revisionAttempts)
        self.pause = pause
    }

    /// One request and what came back.
    public struct ProbeResult: Sendable, Hashable, Codable {
        public var path: String
        public var expectedStatus: Int
        public var bodyContains: String?
        /// Nil when no response came (connection refused, timeout).
        public var status: Int?
        public var latencyMs: Int
        /// The first 200 bytes of the body.
        public var bodySnippet: String
        public var passed: Bool
        /// Why it failed, in words; nil when it passed.
        public var failure: String?

        /// Failed without any answer: nothing says the commit is wrong.
        public var unanswered: Bool { !passed && status == nil }
    }

    /// Whose fault a failed verification is.
    public enum FailureKind: String, Sendable, Hashable, Codable {
        /// The host answered wrongly: the commit is at fault.
        case regression
        /// The host (or its web server) did not answer: nothing is known about the commit.
        case infrastructure
    }

    public struct Report: Sendable, Hashable, Codable {
        public var url: String
        public var expectedCommit: String
        /// What `<url>/REVISION` gave last (trimmed); nil when it gave no 200 response.
        public var servedCommit: String?
        public var revision: ProbeResult
        public var checks: [ProbeResult]

        public var servesExpectedRevision: Bool { revision.passed }
        public var passed: Bool { revision.passed && checks.allSatisfy(\.passed) }

        /// Nil when it passed. No answer to `REVISION` is an infrastructure failure whatever the
        /// checks gave; otherwise any wrong answer is a regression, and checks that got no answer
        /// at all are an infrastructure failure.
        public var failureKind: FailureKind? {
            if passed { return nil }
            if revision.unanswered { return .infrastructure }
            if !revision.passed { return .regression }
            return checks.contains { !$0.passed && !$0.unanswered } ? .regression : .infrastructure
        }

        /// "serves 1a2b3c4d5e6f; 2/2 checks passed" or the first failures.
        public var summary: String {
            guard revision.passed else { return "\(url) does not serve \(expectedCommit.prefix(12)): \(revision.failure ?? "")" }
            let failed = checks.filter { !$0.passed }
            if failed.isEmpty { return "\(url) serves \(expectedCommit.prefix(12)); \(checks.count)/\(checks.count) checks passed" }
            return "\(url) serves \(expectedCommit.prefix(12)); failed: " + failed.map { "\($0.path): \($0.failure ?? "")" }.joined(separator: "; ")
        }
    }

    /// Asks `url` for `REVISION` until it names `expectedCommit` (at most `revisionAttempts`
    /// times), then runs each check once. Never throws: every failure is in the report.
    public func verify(url: String, expectedCommit: ObjectID, checks: [TaskSpec.HTTPProbe]) -> Report {
        var revision = probe(url: url, path: "/REVISION", expectedStatus: 200, bodyContains: nil, expectedBody: expectedCommit.hex)
        var wait = Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18
        for _ in 1..<revisionAttempts where !revision.passed {
            Thread.sleep(forTimeInterval: wait)
            wait *= 2
            revision = probe(url: url, path: "/REVISION", expectedStatus: 200, bodyContains: nil, expectedBody: expectedCommit.hex)
        }
        let served = revision.status == 200 ? revision.bodySnippet.trimmingCharacters(in: .whitespacesAndNewlines) : nil
        let results = checks.map { probe(url: url, path: $0.path, expectedStatus: $0.status, bodyContains: $0.bodyContains, expectedBody: nil) }
        return Report(url: url, expectedCommit: expectedCommit.hex, servedCommit: served, revision: revision, checks: results)
    }

    func probe(url: String, path: String, expectedStatus: Int, bodyContains: String?, expectedBody: String?) -> ProbeResult {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let full = base + (path.hasPrefix("/") ? path : "/" + path)
        let response = HTTPProbe.get(full, timeout: timeout)
        var result = ProbeResult(
            path: path,
            expectedStatus: expectedStatus,
            bodyContains: bodyContains,
            status: response.status,
            latencyMs: response.latencyMs,
            bodySnippet: String(decoding: response.body.prefix(200), as: UTF8.self),
            passed: false,
            failure: nil
        )
        let body = String(decoding: response.body, as: UTF8.self)
        if let error = response.error {
            result.failure = "no response from \(full): \(error)"
        } else if response.status != expectedStatus {
            result.failure = "status \(response.status ?? 0), expected \(expectedStatus)"
        } else if let expectedBody, body.trimmingCharacters(in: .whitespacesAndNewlines) != expectedBody {
            result.failure = "serves revision '\(body.prefix(64).trimmingCharacters(in: .whitespacesAndNewlines))', expected \(expectedBody)"
        } else if let bodyContains, !body.contains(bodyContains) {
            result.failure = "body does not contain '\(bodyContains)'"
        } else {
            result.passed = true
        }
        return result
    }
}
