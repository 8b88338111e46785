import Foundation

/// `devsys.yaml` at the top of the control repository (DESIGN §3b): apps, environments, hosts,
/// agents and notifications.
///
/// | key | required | default | rule |
/// |---|---|---|---|
/// | `trunk` | no | `main` | a branch name |
/// | `apps` | yes | | mapping of app name → `{path, test}`; at least one app |
/// | `apps.<name>.path` | yes | | the tree deployed to hosts, relative to the repository root (no `/…`, `..`) |
/// | `apps.<name>.test` | no | none | test command, run from the repository root |
/// | `apps.<name>.shared` | no | `[]` | paths (relative to the app's tree) kept in `<root>/<app>/shared/` across revisions; a trailing `/` names a folder, else a file |
/// | `apps.<name>.writable` | no | `[]` | paths made writable by the web server's user in each revision (shared ones in `shared/`) |
/// | `apps.<name>.build` | no | `[]` | commands run on each host in the new revision before any host switches |
/// | `apps.<name>.release` | no | none | `{before_switch, after_switch, once}`: command lists run around the switch; `once` on one host only |
/// | `environments` | no | none | mapping of environment name → settings |
/// | `environments.<name>.hosts` | yes | | list of at least one host named under `hosts` |
/// | `environments.<name>.auto_deploy` | no | `false` | deploy merged tasks without a person asking |
/// | `environments.<name>.on_regression` | no | `followup` | `followup`, `rollback` or `none` |
/// | `environments.<name>.keep_revisions` | no | `5` | 2–1000 revisions kept on each host |
/// | `environments.<name>.approval` | no | none | a role (`viewer`, `developer`, `deployer`, `admin`) that must approve deploys |
/// | `hosts` | no | none | mapping of host name → settings |
/// | `hosts.<name>.transport` | no | `ssh` | `ssh` or `local` (a folder on this machine) |
/// | `hosts.<name>.address`, `user` | ssh: yes | | where and as whom to log in |
/// | `hosts.<name>.port` | no | `22` | 1–65535 |
/// | `hosts.<name>.root` | yes | | folder the apps are deployed under; absolute for ssh |
/// | `hosts.<name>.identity`, `known_hosts` | no | ssh defaults | paths of the key file and known_hosts file |
/// | `hosts.<name>.url` | no | none | `http://` or `https://` base URL the app is served at |
/// | `hosts.<name>.php_error_log` | no | none | the host's PHP error log; the lines it gains during verification go into the deploy tag |
/// | `agents.coding.kind` | no | `script` | `script`, `opencode`, `aider` or `command` |
/// | `agents.coding.command` | with `command` | | argv list; overrides the preset for `opencode`/`aider` |
/// | `agents.coding.timeout_s` | no | `1800` | 1–86400 |
/// | `agents.coding.protected` | no | `[]` | more paths the coding agent may not change (besides `specs/`, `monitoring/`, `hooks/`, `devsys.yaml`, `.git*`) |
/// | `agents.coding.parallel` | no | `1` | 1–64 coding agents at once |
/// | `agents.testing.parallel` | no | `2` | 1–64 test jobs at once |
/// | `notifications` | no | `[]` | list of `{name, kind: webhook or slack, url, secret_env, events}`; `events` empty means all |
///
/// Secrets are never written here: keys named `secret`, `password`, `token`… are refused, with
/// a pointer to `secret_env` (an environment variable's name) or `identity` (a key file's path).
public struct ProjectConfig: Hashable, Sendable {
    public struct App: Hashable, Sendable {
        /// Commands run around the switch of `current` (each with `sh -c`, in the new revision).
        public struct Release: Hashable, Sendable {
            /// On every host, after `build` and the shared links, before any host switches.
            public var beforeSwitch: [String]
            /// On every host, right after its switch (an OPcache reset).
            public var afterSwitch: [String]
            /// On one host only (migrations), after `before_switch`, before any host switches.
            public var once: [String]

            public init(beforeSwitch: [String] = [], afterSwitch: [String] = [], once: [String] = []) {
                self.beforeSwitch = beforeSwitch
                self.afterSwitch = afterSwitch
                self.once = once
            }

            public var isEmpty: Bool { beforeSwitch.isEmpty && afterSwitch.isEmpty && once.isEmpty }
        }

        public var name: String
        public var path: String
        public var test: String?
        /// Paths kept in `<root>/<app>/shared/` and linked into every revision: `storage/` (a
        /// folder, with its trailing `/`) or `.env` (a file).
        public var shared: [String]
        /// Paths the web server's user may write to in each revision.
        public var writable: [String]
        /// Commands run in the new revision on every host before any host switches.
        public var build: [String]
        public var release: Release

        public init(
            name: String,
            path: String,
            test: String? = nil,
            shared: [String] = [],
            writable: [String] = [],
            build: [String] = [],
            release: Release = .init()
        ) {
            self.name = name
            self.path = path
            self.test = test
            self.shared = shared
            self.writable = writable
            self.build = build
            self.release = release
        }
    }

    public enum RegressionPolicy: String, Hashable, Sendable, CaseIterable {
        /// Open a follow-up task.
        case followup
        /// Open a follow-up task and roll the environment back.
        case rollback
        case none
    }

    /// Roles of the manager API, each including the ones before it (DESIGN §6).
    public enum Role: String, Hashable, Sendable, CaseIterable {
        case viewer, developer, deployer, admin
    }

    public struct Environment: Hashable, Sendable {
        public var name: String
        public var hosts: [String]
        public var autoDeploy: Bool
        public var onRegression: RegressionPolicy
        public var keepRevisions: Int
        /// The role that must approve a deploy here; nil when none is needed.
        public var approval: Role?

        public init(
            name: String,
            hosts: [String],
            autoDeploy: Bool = false,
            onRegression: RegressionPolicy = .followup,
            keepRevisions: Int = 5,
            approval: Role? = nil
        ) {
            self.name = name
            self.hosts = hosts
            self.autoDeploy = autoDeploy
            self.onRegression = onRegression
            self.keepRevisions = keepRevisions
            self.approval = approval
        }
    }

    public struct Host: Hashable, Sendable {
        public enum Transport: String, Hashable, Sendable, CaseIterable {
            case ssh
            /// A folder on the controller's machine (the demo's default).
            case local
        }

        public var name: String
        public var transport: Transport
        public var address: String?
        public var port: Int
        public var user: String?
        public var root: String
        public var identity: String?
        public var knownHosts: String?
        public var url: String?
        /// The host's PHP error log: what it gains while a deploy is verified goes into the tag.
        public var phpErrorLog: String?

        public init(
            name: String,
            transport: Transport = .ssh,
            address: String? = nil,
            port: Int = 22,
            user: String? = nil,
            root: String,
            identity: String? = nil,
            knownHosts: String? = nil,
            url: String? = nil,
            phpErrorLog: String? = nil
        ) {
            self.name = name
            self.transport = transport
            self.address = address
            self.port = port
            self.user = user
            self.root = root
            self.identity = identity
            self.knownHosts = knownHosts
            self.url = url
            self.phpErrorLog = phpErrorLog
        }
    }

    /// What an agent's sandbox may reach over the network (DESIGN §5).
    public enum AgentNetwork: String, Hashable, Sendable, CaseIterable {
        /// No network at all: only the sandbox's own loopback.
        case none
        /// The controller's network: coding CLIs call a model API.
        case host
    }

    public struct CodingAgent: Hashable, Sendable {
        public enum Kind: String, Hashable, Sendable, CaseIterable {
            /// Runs `specs/<id>/agent.sh` with `sh`.
            case script
            case opencode, aider
            /// Runs `command`.
            case command
        }

        /// Paths the coding agent may never change (DESIGN §3b).
        public static let alwaysProtected = ["specs/", "monitoring/", "hooks/", "devsys.yaml", ".git*"]

        public var kind: Kind
        public var command: [String]?
        public var timeoutSeconds: Int
        /// Paths protected on top of `alwaysProtected`.
        public var protected: [String]
        /// How many coding agents run at once (the coding lane's slots).
        public var parallel: Int
        /// `host` by default: a coding CLI calls its model's API.
        public var network: AgentNetwork
        /// Names of the controller's environment variables passed to the agent (an API key).
        public var environment: [String]
        /// A change bigger than this fails the attempt; default 100 MB.
        public var maxChangeMB: Int
        /// A file bigger than this fails the attempt; default 50 MB.
        public var maxFileMB: Int
        /// Processes (threads included) the sandbox may hold at once; default 512.
        public var maxProcesses: Int
        /// Absolute folders of this machine the sandbox may write to besides its checkout (a
        /// cache); never inside the control repository, the state folder or the controller's home.
        public var writable: [String] = []

        public var protectedPaths: [String] { CodingAgent.alwaysProtected + protected }

        public init(
            kind: Kind = .script,
            command: [String]? = nil,
            timeoutSeconds: Int = 1800,
            protected: [String] = [],
            parallel: Int = 1,
            network: AgentNetwork = .host,
            environment: [String] = [],
            maxChangeMB: Int = 100,
            maxFileMB: Int = 50,
            maxProcesses: Int = 512
        ) {
            self.kind = kind
            self.command = command
            self.timeoutSeconds = timeoutSeconds
            self.protected = protected
            self.parallel = parallel
            self.network = network
            self.environment = environment
            self.maxChangeMB = maxChangeMB
            self.maxFileMB = maxFileMB
            self.maxProcesses = maxProcesses
        }
    }

    public struct TestingAgent: Hashable, Sendable {
        public var parallel: Int
        /// `none` by default: tests reach nothing but their own sandbox.
        public var network: AgentNetwork
        /// Names of the controller's environment variables passed to the test commands.
        public var environment: [String]
        /// Processes (threads included) the sandbox may hold at once; default 512.
        public var maxProcesses: Int
        /// Absolute folders the test commands may write to besides their checkout.
        public var writable: [String] = []

        public init(parallel: Int = 2, network: AgentNetwork = .none, environment: [String] = [], maxProcesses: Int = 512) {
            self.parallel = parallel
            self.network = network
            self.environment = environment
            self.maxProcesses = maxProcesses
        }
    }

    public struct Agents: Hashable, Sendable {
        public var coding: CodingAgent
        public var testing: TestingAgent
        /// Every agent process runs in a sandbox (DESIGN §5); `false` only where none can be made.
        public var sandbox: Bool

        public init(coding: CodingAgent = .init(), testing: TestingAgent = .init(), sandbox: Bool = true) {
            self.coding = coding
            self.testing = testing
            self.sandbox = sandbox
        }
    }

    public struct Notification: Hashable, Sendable {
        public enum Kind: String, Hashable, Sendable, CaseIterable {
            /// JSON POST, HMAC-signed with the secret in `secretEnv`.
            case webhook
            /// Slack-style `{"text": …}` POST.
            case slack
        }

        public var name: String
        public var kind: Kind
        public var url: String
        /// Name of the environment variable holding the signing secret.
        public var secretEnv: String?
        /// Events to send; empty means all.
        public var events: [String]

        public init(name: String, kind: Kind, url: String, secretEnv: String? = nil, events: [String] = []) {
            self.name = name
            self.kind = kind
            self.url = url
            self.secretEnv = secretEnv
            self.events = events
        }
    }

    public var trunk: String
    public var apps: [App]
    public var environments: [Environment]
    public var hosts: [Host]
    public var agents: Agents
    public var notifications: [Notification]

    public init(
        trunk: String = "main",
        apps: [App],
        environments: [Environment] = [],
        hosts: [Host] = [],
        agents: Agents = .init(),
        notifications: [Notification] = []
    ) {
        self.trunk = trunk
        self.apps = apps
        self.environments = environments
        self.hosts = hosts
        self.agents = agents
        self.notifications = notifications
    }

    public func app(named name: String) -> App? { apps.first { $0.name == name } }
    public func environment(named name: String) -> Environment? { environments.first { $0.name == name } }
    public func host(named name: String) -> Host? { hosts.first { $0.name == name } }

    /// Reads and checks devsys.yaml; never throws, reports every problem at once. `config` is nil
    /// when any diagnostic is an error.
    public static func parse(_ data: Data, path: String) -> (config: ProjectConfig?, diagnostics: [Diagnostic]) {
        let parsed = ProjectConfigReader.read(data, path: path)
        return (parsed.config, parsed.diagnostics)
    }
}
