import Environments
import Foundation
import Specs
import Store

/// A person's deploy or rollback, carried by the deploy job that performs it (its payload). The
/// deploy lane runs it like any deploy of its environment — one job per environment at a time —
/// so a person's deploy, an env-ref push and a rollback never race each other.
public struct DeployRequest: Codable, Sendable, Equatable {
    public var actor: Principal
    /// The audit log's name for it: `deploy`, `deploy --force` or `rollback`.
    public var action: String
    /// Why, in the deploy tag and the events: `deploy by <name>`, or the person's own words.
    public var reason: String
    /// The env ref before the request moved it: a deploy that switched nothing puts it back.
    public var previous: String?
    /// A rollback: the deploy tag it goes back to.
    public var rollbackTo: DeployTag?

    public init(actor: Principal, action: String, reason: String, previous: String?, rollbackTo: DeployTag? = nil) {
        self.actor = actor
        self.action = action
        self.reason = reason
        self.previous = previous
        self.rollbackTo = rollbackTo
    }

    public func encoded() -> Data { (try? JSONEncoder().encode(self)) ?? Data() }

    /// The request a deploy job carries; nil for the controller's own deploys (an env-ref push, auto-deploy, drift).
    init?(payload: Data) {
        guard !payload.isEmpty, let request = try? JSONDecoder().decode(Self.self, from: payload) else { return nil }
        self = request
    }
}

/// What a deploy job ended with, kept as the job's result: the report of a deploy that switched
/// (succeeded, or failed and rolled back), or the error that stopped it before anything lasting
/// happened — with its code and category, for whoever follows the job.
public struct DeployOutcome: Codable, Sendable {
    public var report: DeploymentAgent.Report?
    public var error: Failure?

    /// A domain error, as it crosses from the job to whoever waits for it.
    public struct Failure: DomainError, Codable {
        public var code: String
        public var category: ErrorCategory
        public var message: String

        public init(_ error: any Error) {
            let domain = error as? any DomainError
            code = domain?.code ?? "failed"
            category = domain?.category ?? .failed
            message = "\(error)"
        }

        public init(code: String, category: ErrorCategory, message: String) {
            self.code = code
            self.category = category
            self.message = message
        }

        public var description: String { message }
    }

    public init(report: DeploymentAgent.Report) {
        self.report = report
    }

    public init(error: any Error) {
        self.error = Failure(error)
    }

    public func encoded() -> Data? { try? JSONEncoder().encode(self) }

    public init?(result: Data?) {
        guard let result, let outcome = try? JSONDecoder().decode(Self.self, from: result) else { return nil }
        self = outcome
    }
}
