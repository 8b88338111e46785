import ControlRepository
import Environments
import Foundation
import Git
import Pipeline
import Specs
import Store

/// The reads every client shows: status, environments and their revisions, events, audit.
extension ControlPlane {
    /// Tasks by state, each environment's desired and live deploy per host, the job queue and the
    /// latest failure — from the store and git only.
    public func status(by actor: Principal) async throws -> ControllerStatus {
        try await read(actor, "status") { [self] in try ControllerStatus.read(repositoryPath: repositoryPath, store: store) }
    }

    /// Every environment devsys.yaml names on the trunk: its env ref, what is live, and per host
    /// the deploy tag that lists it — from git and the store, without asking the hosts.
    public func environments(by actor: Principal) async throws -> [ControllerStatus.Environment] {
        try await status(by: actor).environments
    }

    /// What each host of each environment serves, asking the hosts; per environment, why its hosts
    /// could not be asked at all.
    public func hostStates(by actor: Principal) async throws -> (hosts: [String: [DeploymentAgent.HostState]], problems: [String: String]) {
        try await read(actor, "hosts") { [self] in
            var read: [String: [DeploymentAgent.HostState]] = [:]
            var problems: [String: String] = [:]
            for environment in try ControllerStatus.read(repositoryPath: repositoryPath, store: store).environments {
                do {
                    read[environment.name] = try agent.hostStates(environment.name)
                } catch {
                    problems[environment.name] = "\(error)"
                }
            }
            return (read, problems)
        }
    }

    /// An environment's deploys (its deploy tags, newest first) and which one is live; with
    /// `askHosts`, what each host serves and keeps.
    /// - Throws: `EnvironmentError.unknownEnvironment`.
    public func revisions(environment: String, askHosts: Bool = false, by actor: Principal) async throws -> RevisionsView {
        try await read(actor, "env/\(environment)/revisions") { [self] in
            let refs = EnvironmentRefs(repository: try repository(), environment: environment)
            try agent.environmentHosts(environment)
            let desired = try refs.desired()
            let live = try agent.liveCommit(environment)
            var liveTagged = false
            var rows: [RevisionsView.Revision] = []
            for tag in try refs.tags().reversed() {
                let bad = try ObjectID(hex: tag.commit).flatMap { try refs.badReason($0) }
                var status = bad == nil ? "" : "bad"
                if !liveTagged, tag.commit == live?.hex {
                    status = "live"
                    liveTagged = true
                }
                let tasks = (tag.fields["Tasks"] ?? "none") == "none" ? [] : (tag.fields["Tasks"] ?? "").components(separatedBy: ", ")
                rows.append(
                    RevisionsView.Revision(
                        tag: tag.name,
                        sequence: tag.sequence,
                        commit: tag.commit,
                        date: tag.date,
                        actor: tag.fields["Actor"],
                        tasks: tasks,
                        status: status,
                        bad: bad
                    )
                )
            }
            return RevisionsView(
                environment: environment,
                ref: refs.ref,
                desired: desired?.hex,
                live: live?.hex,
                revisions: rows,
                hosts: askHosts ? try agent.hostStates(environment) : nil
            )
        }
    }

    /// The events after event `after` (0: from the start), oldest first, at most `limit`; only
    /// those of `taskID` and of `kinds` when given.
    public func events(
        after: Int64 = 0,
        taskID: String? = nil,
        kinds: Set<String> = [],
        limit: Int = 1000,
        by actor: Principal
    ) async throws -> [Event] {
        try await read(actor, "events") { [store] in
            var cursor = after
            var found: [Event] = []
            // Read in pages until `limit` events of the wanted kinds are found or the log ends.
            while found.count < limit {
                let page = try store.events(after: cursor, taskID: taskID, limit: 1000)
                found += kinds.isEmpty ? page : page.filter { kinds.contains($0.kind) }
                guard let last = page.last, page.count == 1000 else { break }
                cursor = last.id
            }
            return Array(found.prefix(limit))
        }
    }

    /// The latest `limit` events (of one task, when given), oldest first.
    public func latestEvents(taskID: String? = nil, limit: Int = 100, by actor: Principal) async throws -> [Event] {
        try await read(actor, "events") { [store] in try store.events(taskID: taskID, limit: limit) }
    }

    /// The audit log, newest first, filtered.
    public func audit(_ filter: Store.AuditFilter = Store.AuditFilter(), by actor: Principal) async throws -> [AuditEntry] {
        try await read(actor, "audit") { [store] in try store.audit(filter) }
    }
}

/// An environment's deploy history (`devsys revisions`, `GET /api/v1/environments/{env}/revisions`).
public struct RevisionsView: Sendable, Encodable {
    public struct Revision: Sendable, Encodable {
        public var tag: String
        public var sequence: Int
        public var commit: String
        public var date: Date?
        public var actor: String?
        public var tasks: [String]
        /// `live`, `bad` (rolled back or failed), or empty.
        public var status: String
        /// Why it is bad: the mark's text.
        public var bad: String?
    }

    public var environment: String
    /// `refs/heads/env/<env>`.
    public var ref: String
    public var desired: String?
    public var live: String?
    /// Newest first.
    public var revisions: [Revision]
    /// What each host serves and keeps, when asked.
    public var hosts: [DeploymentAgent.HostState]?

    enum CodingKeys: String, CodingKey {
        case environment, desired, live, revisions, hosts
    }
}
