import Foundation

/// A task spec: `specs/<id>/task.yaml` in the control repository (DESIGN §3).
///
/// ```yaml
/// id: 001-about-page
/// title: Add an About page
/// kind: feature
/// app: blog
/// acceptance:
///   - name: about page served
///     http: { path: /about.php, status: 200, body_contains: About }
/// ```
///
/// Keys, with what is required and the defaults of the rest:
///
/// | key | required | default | rule |
/// |---|---|---|---|
/// | `id` | yes | | matches the folder name; `^[0-9]{3,}-[a-z0-9]+(-[a-z0-9]+)*$`, ≤ 64 characters |
/// | `title` | yes | | text, 1–200 characters |
/// | `kind` | yes | | `feature`, `bugfix`, `chore` or `followup` |
/// | `app` | yes | | an app named in devsys.yaml |
/// | `story` | no | `""` | text |
/// | `acceptance` | yes | | a list of at least one check, each `name` plus exactly one of `http` or `run` |
/// | `acceptance[].http` | | | `path` (required, starts with `/`), `status` (100–599, default 200), `body_contains` (text, optional) |
/// | `acceptance[].run` | | | a shell command, run from the repository root |
/// | `resource_requirements` | no | `{timeout_s: 900, memory_mb: 1024, cpus: 1}` | each key optional; `timeout_s` 1–86400, `memory_mb` ≥ 1, `cpus` > 0 and ≤ 1024 |
/// | `tags` | no | `[]` | list of text |
/// | `related_tasks` | no | `[]` | list of ids of other existing tasks |
/// | `expected_artifacts` | no | `[]` | list of relative paths (no `/…`, `..`, `//`, `\`) the coding agent must produce |
/// | `retry_policy` | no | `{max_attempts: 3, backoff_s: 10, max_backoff_s: 600}` | each key optional; `max_attempts` 1–100, `backoff_s` and `max_backoff_s` ≥ 0 |
/// | `agent` | no | `{capabilities: []}` | `capabilities`: list of text a coding agent must offer |
/// | `review` | no | `required` | `required`, or `auto` (merge when tests pass) |
/// | `deploy` | no | none | `{env: <environment in devsys.yaml>}`: where the merged task goes first; without it the task is merged, not deployed |
///
/// Unquoted values are typed as YAML 1.1 does (`yes` is a boolean, `2024-01-01` a date, `0755`
/// octal), so a text value that looks like one must be quoted.
public struct TaskSpec: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case feature, bugfix, chore, followup
    }

    /// Whether a person must approve the task's branch before it is merged.
    public enum Review: String, Hashable, Sendable, CaseIterable {
        case required
        /// Merged as soon as its tests pass.
        case auto
    }

    /// A check that tells whether the task is done, run by the testing or deploy agent.
    public struct AcceptanceCheck: Hashable, Sendable {
        public enum Probe: Hashable, Sendable {
            /// An HTTP request to the deployed app.
            case http(HTTPProbe)
            /// A shell command run from the repository root; passes when it exits 0.
            case run(String)
        }

        public var name: String
        public var probe: Probe

        public init(name: String, probe: Probe) {
            self.name = name
            self.probe = probe
        }
    }

    public struct HTTPProbe: Hashable, Sendable {
        /// Request path on the app's URL, starting with `/`.
        public var path: String
        /// Expected status code; default 200.
        public var status: Int
        /// Text the response body must contain, if any.
        public var bodyContains: String?

        public init(path: String, status: Int = 200, bodyContains: String? = nil) {
            self.path = path
            self.status = status
            self.bodyContains = bodyContains
        }
    }

    public struct ResourceRequirements: Hashable, Sendable {
        /// How long one coding attempt may run; default 900 s.
        public var timeoutSeconds: Int
        /// Memory limit of the attempt; default 1024 MB.
        public var memoryMB: Int
        /// CPUs for the attempt; default 1.
        public var cpus: Double

        public init(timeoutSeconds: Int = 900, memoryMB: Int = 1024, cpus: Double = 1) {
            self.timeoutSeconds = timeoutSeconds
            self.memoryMB = memoryMB
            self.cpus = cpus
        }
    }

    /// How often a failing task is tried again, and how long to wait in between
    /// (`backoff_s`, doubling each time, at most `max_backoff_s`).
    public struct RetryPolicy: Hashable, Sendable {
        /// Attempts in all, the first included; default 3.
        public var maxAttempts: Int
        /// Wait before the second attempt; default 10 s.
        public var backoffSeconds: Int
        /// Longest wait between attempts; default 600 s.
        public var maxBackoffSeconds: Int

        public init(maxAttempts: Int = 3, backoffSeconds: Int = 10, maxBackoffSeconds: Int = 600) {
            self.maxAttempts = maxAttempts
            self.backoffSeconds = backoffSeconds
            self.maxBackoffSeconds = maxBackoffSeconds
        }
    }

    /// Which coding agent may take the task.
    public struct AgentRequirements: Hashable, Sendable {
        /// Capabilities the agent must offer (`php`, `frontend`, …); default none.
        public var capabilities: [String]

        public init(capabilities: [String] = []) {
            self.capabilities = capabilities
        }
    }

    public struct DeployTarget: Hashable, Sendable {
        /// The environment (in devsys.yaml) a merged task is deployed to first.
        public var env: String

        public init(env: String) {
            self.env = env
        }
    }

    public var id: String
    public var title: String
    public var kind: Kind
    public var app: String
    public var story: String
    public var acceptance: [AcceptanceCheck]
    public var resources: ResourceRequirements
    public var tags: [String]
    public var relatedTasks: [String]
    public var expectedArtifacts: [String]
    public var retryPolicy: RetryPolicy
    public var agent: AgentRequirements
    public var review: Review
    public var deploy: DeployTarget?

    public init(
        id: String,
        title: String,
        kind: Kind,
        app: String,
        story: String = "",
        acceptance: [AcceptanceCheck],
        resources: ResourceRequirements = .init(),
        tags: [String] = [],
        relatedTasks: [String] = [],
        expectedArtifacts: [String] = [],
        retryPolicy: RetryPolicy = .init(),
        agent: AgentRequirements = .init(),
        review: Review = .required,
        deploy: DeployTarget? = nil
    ) {
        self.id = id
        self.title = title
        self.kind = kind
        self.app = app
        self.story = story
        self.acceptance = acceptance
        self.resources = resources
        self.tags = tags
        self.relatedTasks = relatedTasks
        self.expectedArtifacts = expectedArtifacts
        self.retryPolicy = retryPolicy
        self.agent = agent
        self.review = review
        self.deploy = deploy
    }

    /// Reads and checks a task.yaml on its own: syntax, keys, types, values, id format, paths.
    /// Facts that need the rest of the repository (folder name, apps, environments, related
    /// tasks) are checked by `SpecTreeValidator`.
    ///
    /// Never throws and never traps: every problem found comes back as a diagnostic, all of them
    /// at once; `spec` is nil when any of them is an error.
    public static func parse(_ data: Data, path: String) -> (spec: TaskSpec?, diagnostics: [Diagnostic]) {
        let parsed = TaskSpecReader.read(data, path: path)
        return (parsed.spec, parsed.diagnostics)
    }
}
