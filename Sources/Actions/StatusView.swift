import ControlRepository
import Environments
import Foundation
import Git
import Specs
import Store

/// An overview of a control repository and its controller (`devsys status`): the tasks by
/// state, each environment's desired and live deploy per host, the job queue and the latest
/// failure. Read from the store and git only; asking the hosts is `DeploymentAgent.hostStates`.
public struct ControllerStatus: Sendable, Encodable {
    /// Tasks by state: every state name, with how many and which tasks are in it.
    public struct Tasks: Sendable, Encodable {
        public var total: Int
        public var counts: [String: Int]
        public var ids: [String: [String]]
    }

    /// An environment as git and the store say: what should be live, and what is.
    public struct Environment: Sendable, Encodable {
        public var name: String
        /// `refs/heads/env/<env>`: the commit the environment should serve; nil before any promotion.
        public var desired: String?
        /// The commit devsys last brought the hosts to (the store's record); nil before the first deploy.
        public var live: String?
        /// The newest deploy tag of the live commit.
        public var liveTag: String?
        public var liveSince: Date?
        /// Whether the env ref names something else than what is live: a deploy is due, running or failed.
        public var pending: Bool
        public var hosts: [Host]
    }

    /// One host of an environment (as devsys.yaml names them) and the deploy tag that lists it.
    public struct Host: Sendable, Encodable {
        public var host: String
        /// The newest deploy tag of the live commit that lists this host; else the newest tag that does.
        public var deploy: String?
        public var commit: String?
        /// Whether `deploy` is the live deploy.
        public var live: Bool
    }

    /// A job as the status lists it.
    public struct JobLine: Sendable, Encodable {
        public var id: Int64
        public var step: String
        /// What it works on: a task id, or `env/<env>` for a deploy of an environment.
        public var subject: String
        public var inputCommit: String
        public var attempts: Int
        public var maxAttempts: Int
        public var notBefore: Date?
        public var leaseOwner: String?
        public var leaseExpires: Date?
        public var lastError: String?

        init(_ job: Job) {
            id = job.id
            step = job.key.step.rawValue
            subject = job.key.taskID
            inputCommit = job.key.inputCommit
            attempts = job.attempts
            maxAttempts = job.maxAttempts
            notBefore = job.state == .pending ? job.notBefore : nil
            leaseOwner = job.leaseOwner
            leaseExpires = job.leaseExpires
            lastError = job.lastError
        }
    }

    /// The queue: counts per state (`running` is leased), then the running jobs, the next
    /// pending ones and the latest dead ones.
    public struct Jobs: Sendable, Encodable {
        public var pending: Int
        public var running: Int
        public var dead: Int
        public var done: Int
        public var runningJobs: [JobLine]
        public var pendingJobs: [JobLine]
        public var deadJobs: [JobLine]
    }

    public var tasks: Tasks
    public var environments: [Environment]
    /// Why the environments could not be listed (no trunk, devsys.yaml invalid).
    public var environmentsProblem: String?
    public var jobs: Jobs
    /// The latest event recording a failure.
    public var lastError: Event?

    /// How many pending and dead jobs the status lists (the counts cover all).
    public static let listLimit = 10

    /// Reads the status of the repository at `repositoryPath` and its store.
    /// - Throws: `StoreError` when the store cannot be read, `GitError` when a ref cannot.
    public static func read(repositoryPath: String, store: Store) throws -> ControllerStatus {
        let repository = try Repository.open(at: repositoryPath)
        let records = try store.tasks()
        var ids = Dictionary(uniqueKeysWithValues: TaskState.allCases.map { ($0.rawValue, [String]()) })
        for record in records { ids[record.state.rawValue, default: []].append(record.id) }
        let tasks = Tasks(total: records.count, counts: ids.mapValues(\.count), ids: ids)

        var configured: [ProjectConfig.Environment] = []
        var problem: String?
        do {
            let control = ControlRepository(repository)
            let trunk = try control.trunkCommit()
            if let config = try control.config(at: trunk.commit) {
                configured = config.environments
            } else {
                problem = "devsys.yaml on \(trunk.branch) (\(trunk.commit.short)) is missing or invalid"
            }
        } catch {
            problem = "\(error)"
        }
        let environments = try configured.map { try Self.environment($0.name, hosts: $0.hosts, repository: repository, store: store) }

        let counts = try store.jobCounts()
        let jobs = Jobs(
            pending: counts[.pending] ?? 0,
            running: counts[.leased] ?? 0,
            dead: counts[.dead] ?? 0,
            done: counts[.done] ?? 0,
            runningJobs: try store.jobs(in: .leased, limit: 1000).map(JobLine.init),
            pendingJobs: try store.jobs(in: .pending, limit: listLimit).map(JobLine.init),
            deadJobs: try store.jobs(in: .dead, limit: listLimit, newest: true).map(JobLine.init)
        )
        return ControllerStatus(
            tasks: tasks,
            environments: environments,
            environmentsProblem: problem,
            jobs: jobs,
            lastError: try store.latestFailure()
        )
    }

    private static func environment(_ name: String, hosts: [String], repository: Repository, store: Store) throws -> Environment {
        let refs = EnvironmentRefs(repository: repository, environment: name)
        let desired = try refs.desired()?.hex
        let live = try store.value(forKey: DeploymentAgent.liveKey(name))
        let tags = try refs.tags()
        let liveTag = live.flatMap { live in tags.last { $0.commit == live } }
        let lines = hosts.map { host -> Host in
            let lists = { (tag: DeployTag) in (tag.fields["Hosts"] ?? "").components(separatedBy: ", ").contains(host) }
            if let liveTag, lists(liveTag) { return Host(host: host, deploy: liveTag.name, commit: liveTag.commit, live: true) }
            let last = tags.last(where: lists)
            return Host(host: host, deploy: last?.name, commit: last?.commit, live: false)
        }
        return Environment(
            name: name,
            desired: desired,
            live: live,
            liveTag: liveTag?.name,
            liveSince: liveTag?.date,
            pending: desired != nil && desired != live,
            hosts: lines
        )
    }
}
