import Foundation

/// What reading devsys.yaml found, including what the tree checks need when the file has errors
/// elsewhere: the names of apps and environments (nil when that section could not be read, so
/// specs are not blamed for the config's problem).
struct ParsedProjectConfig: Sendable {
    var config: ProjectConfig?
    var diagnostics: [Diagnostic]
    var appNames: Set<String>?
    var environmentNames: Set<String>?
    var path: String
}

enum ProjectConfigKey: String, YAMLKey {
    case trunk, apps, environments, hosts, agents, notifications

    static let table = YAMLKeyTable<Self>()
}

enum AppKey: String, YAMLKey {
    case path, test, shared, writable, build, release

    static let table = YAMLKeyTable<Self>()
}

enum ReleaseKey: String, YAMLKey {
    case beforeSwitch = "before_switch"
    case afterSwitch = "after_switch"
    case once

    static let table = YAMLKeyTable<Self>()
}

enum EnvironmentKey: String, YAMLKey {
    case hosts
    case autoDeploy = "auto_deploy"
    case onRegression = "on_regression"
    case keepRevisions = "keep_revisions"
    case approval

    static let table = YAMLKeyTable<Self>()
}

enum HostKey: String, YAMLKey {
    case transport, address, port, user, root, identity
    case knownHosts = "known_hosts"
    case url
    case phpErrorLog = "php_error_log"

    static let table = YAMLKeyTable<Self>()
}

enum AgentsKey: String, YAMLKey {
    case coding, testing, sandbox

    static let table = YAMLKeyTable<Self>()
}

enum CodingAgentKey: String, YAMLKey {
    case kind, command
    case timeoutSeconds = "timeout_s"
    case protected
    case parallel
    case network, env
    case maxChangeMB = "max_change_mb"
    case maxFileMB = "max_file_mb"
    case maxProcesses = "max_processes"
    case writable

    static let table = YAMLKeyTable<Self>()
}

enum TestingAgentKey: String, YAMLKey {
    case parallel, network, env, writable
    case maxProcesses = "max_processes"

    static let table = YAMLKeyTable<Self>()
}

enum NotificationKey: String, YAMLKey {
    case name, kind, url
    case secretEnv = "secret_env"
    case events

    static let table = YAMLKeyTable<Self>()
}

enum ProjectConfigReader {
    static let secretRefusal =
        "secrets are never written in devsys.yaml; put the secret in an environment variable and name it with 'secret_env:'"
    static let hostSecretRefusal =
        "devsys logs in to hosts with SSH keys only; name the key file with 'identity:' (never the key or a password itself)"

    static let notificationRefused: [String: String] = [
        "secret": secretRefusal, "token": secretRefusal, "password": secretRefusal, "hmac_secret": secretRefusal,
        "signing_secret": secretRefusal, "api_key": secretRefusal,
    ]
    static let hostRefused: [String: String] = [
        "password": hostSecretRefusal, "passphrase": hostSecretRefusal, "private_key": hostSecretRefusal, "key": hostSecretRefusal,
        "secret": hostSecretRefusal,
    ]

    static func read(_ data: Data, path: String) -> ParsedProjectConfig {
        var d = DiagnosticCollector(path: path)
        var parsed = ParsedProjectConfig(config: nil, diagnostics: [], path: path)
        switch YAMLDocumentReader.read(data, into: &d) {
        case .failed:
            break
        case .empty:
            d.error("devsys.yaml is empty; it needs at least 'apps'", at: .startOfFile)
        case .document(let document):
            parsed.config = read(document, into: &d, parsed: &parsed)
        }
        if d.hasErrors { parsed.config = nil }
        parsed.diagnostics = Diagnostic.sortedForReading(d.diagnostics)
        return parsed
    }

    private static func read(_ document: YAMLDocument, into d: inout DiagnosticCollector, parsed: inout ParsedProjectConfig) -> ProjectConfig? {
        d.document = document
        guard let fields = d.fields(of: .root, as: ProjectConfigKey.self) else { return nil }
        d.require([.apps], in: fields, what: "name at least one app and the folder it lives in")

        var trunk: String? = "main"
        if let value = fields[.trunk] {
            trunk = d.text(value)
            if let name = trunk, let problem = branchNameProblem(name) {
                d.error("'trunk' is '\(name)', which \(problem)", at: d.mark(value))
                trunk = nil
            }
        }

        // Hosts first: environments refer to them.
        var hosts: [ProjectConfig.Host]? = []
        var hostNames: Set<String>? = []
        if let value = fields[.hosts] {
            if let entries = d.namedEntries(value, what: "host") {
                hostNames = Set(entries.map(\.name))
                var all: [ProjectConfig.Host] = []
                var ok = true
                for entry in entries {
                    if let host = readHost(entry.name, entry.value, into: &d) { all.append(host) } else { ok = false }
                }
                hosts = ok ? all : nil
            } else {
                hosts = nil
                hostNames = nil
            }
        }

        var apps: [ProjectConfig.App]?
        if let value = fields[.apps], let entries = d.namedEntries(value, what: "app") {
            parsed.appNames = Set(entries.map(\.name))
            if entries.isEmpty { d.error("'apps' is empty; name at least one app", at: d.mark(value)) }
            var all: [ProjectConfig.App] = []
            var ok = true
            for entry in entries {
                if let app = readApp(entry.name, entry.value, into: &d) { all.append(app) } else { ok = false }
            }
            apps = ok ? all : nil
        }

        var environments: [ProjectConfig.Environment]? = []
        parsed.environmentNames = []
        if let value = fields[.environments] {
            if let entries = d.namedEntries(value, what: "environment") {
                parsed.environmentNames = Set(entries.map(\.name))
                var all: [ProjectConfig.Environment] = []
                var ok = true
                for entry in entries {
                    if let environment = readEnvironment(entry.name, entry.value, hostNames: hostNames, into: &d) {
                        all.append(environment)
                    } else {
                        ok = false
                    }
                }
                environments = ok ? all : nil
            } else {
                environments = nil
                parsed.environmentNames = nil
            }
        }

        var agents: ProjectConfig.Agents? = .init()
        if let value = fields[.agents] { agents = readAgents(value, into: &d) }

        var notifications: [ProjectConfig.Notification]? = []
        if let value = fields[.notifications] { notifications = readNotifications(value, into: &d) }

        guard let trunk, let apps, let environments, let hosts, let agents, let notifications else { return nil }
        return ProjectConfig(trunk: trunk, apps: apps, environments: environments, hosts: hosts, agents: agents, notifications: notifications)
    }

    // MARK: Sections

    private static func readApp(_ name: String, _ value: FieldValue, into d: inout DiagnosticCollector) -> ProjectConfig.App? {
        guard let fields = d.fields(of: value, as: AppKey.self) else { return nil }
        d.require([.path], in: fields, what: "the folder of the app's tree, relative to the repository root, like 'app'")
        var path: String?
        if let v = fields[.path], let text = d.text(v) {
            if let problem = RepositoryPath.problem(with: text) {
                d.error("'\(d.name(v))' '\(text)' \(problem)", at: d.mark(v))
            } else {
                path = text
            }
        }
        var test: String?
        var ok = true
        if let v = fields[.test] {
            test = d.text(v)
            ok = test != nil
        }
        var app = ProjectConfig.App(name: name, path: path ?? "")
        app.test = test
        if let v = fields[.shared] {
            if let paths = appPaths(v, what: "shared path", into: &d) { app.shared = paths } else { ok = false }
        }
        if let v = fields[.writable] {
            if let paths = appPaths(v, what: "writable path", into: &d) { app.writable = paths } else { ok = false }
        }
        if let v = fields[.build] {
            if let commands = commands(v, into: &d) { app.build = commands } else { ok = false }
        }
        if let v = fields[.release] {
            if let release = readRelease(v, into: &d) { app.release = release } else { ok = false }
        }
        guard path != nil, ok else { return nil }
        return app
    }

    /// `release: { before_switch: [...], after_switch: [...], once: [...] }`.
    private static func readRelease(_ value: FieldValue, into d: inout DiagnosticCollector) -> ProjectConfig.App.Release? {
        guard let fields = d.fields(of: value, as: ReleaseKey.self) else { return nil }
        var release = ProjectConfig.App.Release()
        var ok = true
        for key in ReleaseKey.allCases {
            guard let v = fields[key] else { continue }
            guard let list = commands(v, into: &d) else {
                ok = false
                continue
            }
            switch key {
            case .beforeSwitch: release.beforeSwitch = list
            case .afterSwitch: release.afterSwitch = list
            case .once: release.once = list
            }
        }
        return ok ? release : nil
    }

    /// A list of shell command lines (`build`, `release.*`), each run with `sh -c` on the host.
    private static func commands(_ value: FieldValue, into d: inout DiagnosticCollector) -> [String]? {
        guard let items = d.textList(value) else { return nil }
        var ok = true
        for item in items where item.text.unicodeScalars.contains(where: { $0.value == 0 }) {
            d.error("a command in '\(d.name(value))' contains a NUL character", at: item.mark)
            ok = false
        }
        return ok ? items.map(\.text) : nil
    }

    /// Paths inside the app's tree (`shared`, `writable`): relative, no `..`, no control
    /// characters, not `REVISION`, each once and none inside another. A trailing `/` names a folder.
    private static func appPaths(_ value: FieldValue, what: String, into d: inout DiagnosticCollector) -> [String]? {
        guard let items = d.textList(value) else { return nil }
        var ok = true
        var seen: [String: YAMLMark] = [:]
        for item in items {
            let trimmed = item.text.hasSuffix("/") ? String(item.text.dropLast()) : item.text
            if let problem = RepositoryPath.problem(with: trimmed) {
                let inApp = problem.replacingOccurrences(of: "the repository root", with: "the app's folder, like 'storage/'")
                    .replacingOccurrences(of: "inside the repository", with: "inside the app's folder")
                d.error("\(what) '\(item.text)' \(inApp)", at: item.mark)
                ok = false
                continue
            }
            if trimmed == "REVISION" || trimmed == "." || trimmed.hasPrefix("./") {
                d.error("\(what) '\(item.text)' cannot be used: devsys writes REVISION itself and '.' is the whole revision", at: item.mark)
                ok = false
                continue
            }
            if let first = seen[trimmed] {
                d.error("\(what) '\(item.text)' is listed twice (first at line \(first.line)); keep one", at: item.mark)
                ok = false
                continue
            }
            if let outer = seen.keys.first(where: { trimmed.hasPrefix($0 + "/") || $0.hasPrefix(trimmed + "/") }) {
                d.error("\(what) '\(item.text)' and '\(outer)' overlap (one is inside the other); list only the outer one", at: item.mark)
                ok = false
                continue
            }
            seen[trimmed] = item.mark
        }
        return ok ? items.map(\.text) : nil
    }

    private static func readEnvironment(
        _ name: String,
        _ value: FieldValue,
        hostNames: Set<String>?,
        into d: inout DiagnosticCollector
    ) -> ProjectConfig.Environment? {
        guard let fields = d.fields(of: value, as: EnvironmentKey.self) else { return nil }
        d.require([.hosts], in: fields, what: "list the hosts the environment deploys to")
        var ok = true
        var hosts: [String]?
        if let v = fields[.hosts], let items = d.textList(v) {
            if items.isEmpty { d.error("'\(d.name(v))' is empty; list at least one host", at: d.mark(v)) }
            for item in items {
                if let hostNames, !hostNames.contains(item.text) {
                    let known = hostNames.isEmpty ? "; 'hosts' names none" : DidYouMean.hint(for: item.text, among: hostNames.sorted())
                    d.error("environment '\(name)' uses host '\(item.text)', which is not under 'hosts'\(known)", at: item.mark)
                }
            }
            hosts = items.map(\.text)
        }
        var environment = ProjectConfig.Environment(name: name, hosts: hosts ?? [])
        if let v = fields[.autoDeploy] {
            if let b = d.bool(v) { environment.autoDeploy = b } else { ok = false }
        }
        if let v = fields[.onRegression] {
            if let policy = d.choice(v, of: ProjectConfig.RegressionPolicy.self) { environment.onRegression = policy } else { ok = false }
        }
        if let v = fields[.keepRevisions] {
            if let n = d.integer(v, in: 2...1000) { environment.keepRevisions = n } else { ok = false }
        }
        if let v = fields[.approval] {
            if let role = d.choice(v, of: ProjectConfig.Role.self) { environment.approval = role } else { ok = false }
        }
        guard ok, hosts != nil else { return nil }
        return environment
    }

    private static func readHost(_ name: String, _ value: FieldValue, into d: inout DiagnosticCollector) -> ProjectConfig.Host? {
        guard let fields = d.fields(of: value, as: HostKey.self, refused: hostRefused) else { return nil }
        var ok = true
        var transport = ProjectConfig.Host.Transport.ssh
        if let v = fields[.transport] {
            if let t = d.choice(v, of: ProjectConfig.Host.Transport.self) { transport = t } else { ok = false }
        }
        if transport == .ssh {
            d.require([.address, .user, .root], in: fields, what: "an ssh host needs 'address', 'user' and 'root'")
        } else {
            d.require([.root], in: fields, what: "the folder apps are deployed under")
            for key in [HostKey.address, .port, .user, .identity, .knownHosts] {
                if let v = fields[key] {
                    d.warning("'\(d.name(v))' is ignored for a host with 'transport: local'", at: d.keyMark(v))
                }
            }
        }
        /// The key's text; nil (and the host refused) when it is not text or breaks `rule`, one of
        /// the deployer's rules (ProjectConfig+HostRules).
        func text(_ key: HostKey, _ rule: ((String) -> String?)? = nil) -> String? {
            guard let v = fields[key] else { return nil }
            let text = d.text(v)
            if text == nil { ok = false }
            if let text, let problem = rule?(text) {
                d.error("'\(d.name(v))' is \(text.quotedForMessage), which \(problem)", at: d.mark(v))
                ok = false
                return nil
            }
            return text
        }
        let ssh = transport == .ssh
        let address = text(.address) { ssh ? ProjectConfig.Host.addressProblem($0) : nil }
        let user = text(.user) { ssh ? ProjectConfig.Host.userProblem($0) : nil }
        var root = text(.root) { ProjectConfig.Host.rootProblem($0) }
        if let v = fields[.root], let r = root, ssh, !r.hasPrefix("/") {
            d.error("'\(d.name(v))' is '\(r)'; on an ssh host it must be an absolute path, like '/srv/devsys'", at: d.mark(v))
            root = nil
        }
        let identity = text(.identity) { path in
            // A key pasted in is a secret: the message does not repeat it.
            if path.contains("PRIVATE KEY") || path.contains("\n") { return nil }
            return ssh ? ProjectConfig.Host.keyFileProblem(path) : nil
        }
        if let v = fields[.identity], let identity, identity.contains("PRIVATE KEY") || identity.contains("\n") {
            d.error("'\(d.name(v))' holds a key; it must be the path of the key file, like '~/.ssh/devsys_ed25519'", at: d.mark(v))
            ok = false
        }
        let knownHosts = text(.knownHosts) { ssh ? ProjectConfig.Host.keyFileProblem($0) : nil }
        let url = text(.url)
        if let v = fields[.url], let u = url, let problem = urlProblem(u) {
            d.error("'\(d.name(v))' is '\(u)', which \(problem)", at: d.mark(v))
            ok = false
        }
        let phpErrorLog = text(.phpErrorLog)
        if let v = fields[.phpErrorLog], let log = phpErrorLog {
            if log.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                d.error("'\(d.name(v))' contains a control character; give the path of the host's PHP error log", at: d.mark(v))
                ok = false
            } else if transport == .ssh, !log.hasPrefix("/") {
                d.error("'\(d.name(v))' is '\(log)'; on an ssh host it must be an absolute path, like '/var/log/php/error.log'", at: d.mark(v))
                ok = false
            }
        }
        var port = 22
        if let v = fields[.port] {
            if let n = d.integer(v, in: 1...65535) { port = n } else { ok = false }
        }
        guard ok, let root else { return nil }
        if transport == .ssh && (address == nil || user == nil) { return nil }
        return ProjectConfig.Host(
            name: name,
            transport: transport,
            address: address,
            port: port,
            user: user,
            root: root,
            identity: identity,
            knownHosts: knownHosts,
            url: url,
            phpErrorLog: phpErrorLog
        )
    }

    private static func readAgents(_ value: FieldValue, into d: inout DiagnosticCollector) -> ProjectConfig.Agents? {
        guard let fields = d.fields(of: value, as: AgentsKey.self) else { return nil }
        var agents = ProjectConfig.Agents()
        var ok = true
        if let v = fields[.coding] {
            if let coding = readCodingAgent(v, into: &d) { agents.coding = coding } else { ok = false }
        }
        if let v = fields[.testing] {
            if let section = d.fields(of: v, as: TestingAgentKey.self) {
                if let p = section[.parallel] {
                    if let n = d.integer(p, in: 1...64) { agents.testing.parallel = n } else { ok = false }
                }
                if let v = section[.network] {
                    if let network = d.choice(v, of: ProjectConfig.AgentNetwork.self) { agents.testing.network = network } else { ok = false }
                }
                if let v = section[.env] {
                    if let names = readVariableNames(v, into: &d) { agents.testing.environment = names } else { ok = false }
                }
                if let v = section[.maxProcesses] {
                    if let n = d.integer(v, in: 16...65_536) { agents.testing.maxProcesses = n } else { ok = false }
                }
                if let v = section[.writable] {
                    if let folders = readAbsoluteFolders(v, into: &d) { agents.testing.writable = folders } else { ok = false }
                }
            } else {
                ok = false
            }
        }
        if let v = fields[.sandbox] {
            if let sandbox = d.bool(v) { agents.sandbox = sandbox } else { ok = false }
        }
        return ok ? agents : nil
    }

    /// `env: [OPENAI_API_KEY, …]`: names of environment variables, never their values.
    private static func readVariableNames(_ value: FieldValue, into d: inout DiagnosticCollector) -> [String]? {
        guard let items = d.textList(value) else { return nil }
        var ok = true
        for item in items where !isVariableName(item.text) {
            let hint = item.text.contains("=") ? "; give the name only, the value comes from the controller's environment" : ""
            d.error("'\(item.text)' is not an environment variable name (letters, digits and _, not starting with a digit)\(hint)", at: item.mark)
            ok = false
        }
        return ok ? items.map(\.text) : nil
    }

    /// `writable: [/var/cache/agents]`: absolute folders, no `.` or `..` components.
    private static func readAbsoluteFolders(_ value: FieldValue, into d: inout DiagnosticCollector) -> [String]? {
        guard let items = d.textList(value) else { return nil }
        var ok = true
        for item in items {
            let parts = item.text.split(separator: "/")
            if !item.text.hasPrefix("/") || item.text == "/" || parts.contains(".") || parts.contains("..") {
                d.error("'\(item.text)' must be an absolute folder other than / (like /var/cache/devsys-agents), without '.' or '..'", at: item.mark)
                ok = false
            }
        }
        return ok ? items.map(\.text) : nil
    }

    static func isVariableName(_ text: String) -> Bool {
        guard let first = text.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return text.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }

    private static func readCodingAgent(_ value: FieldValue, into d: inout DiagnosticCollector) -> ProjectConfig.CodingAgent? {
        guard let fields = d.fields(of: value, as: CodingAgentKey.self) else { return nil }
        var coding = ProjectConfig.CodingAgent()
        var ok = true
        if let v = fields[.kind] {
            if let kind = d.choice(v, of: ProjectConfig.CodingAgent.Kind.self) { coding.kind = kind } else { ok = false }
        }
        if let v = fields[.parallel] {
            if let n = d.integer(v, in: 1...64) { coding.parallel = n } else { ok = false }
        }
        if let v = fields[.command] {
            if d.document.kind(v.node) == .scalar, !d.document.isEmptyValue(v.node) {
                d.error(
                    "'\(d.name(v))' must be a list of arguments, like [\"my-agent\", \"--prompt-file\", \"$DEVSYS_PROMPT_FILE\"]; "
                        + "devsys runs it without a shell",
                    at: d.mark(v)
                )
                ok = false
            } else if let items = d.textList(v) {
                if items.isEmpty {
                    d.error("'\(d.name(v))' is empty; give the program and its arguments", at: d.mark(v))
                    ok = false
                } else if coding.kind == .script {
                    d.error(
                        "'\(d.name(v))' is not used with 'kind: script' (it runs specs/<id>/agent.sh); remove it or use 'kind: command'",
                        at: d.keyMark(v)
                    )
                    ok = false
                }
                coding.command = items.map(\.text)
            } else {
                ok = false
            }
        } else if coding.kind == .command {
            d.error("'kind: command' needs 'command', the program and its arguments as a list", at: fields[.kind].map { d.mark($0) } ?? fields.mark)
            ok = false
        }
        if let v = fields[.timeoutSeconds] {
            if let n = d.integer(v, in: 1...86_400) { coding.timeoutSeconds = n } else { ok = false }
        }
        if let v = fields[.network] {
            if let network = d.choice(v, of: ProjectConfig.AgentNetwork.self) { coding.network = network } else { ok = false }
        }
        if let v = fields[.env] {
            if let names = readVariableNames(v, into: &d) { coding.environment = names } else { ok = false }
        }
        if let v = fields[.maxChangeMB] {
            if let n = d.integer(v, in: 1...1_048_576) { coding.maxChangeMB = n } else { ok = false }
        }
        if let v = fields[.maxFileMB] {
            if let n = d.integer(v, in: 1...1_048_576) { coding.maxFileMB = n } else { ok = false }
        }
        if let v = fields[.maxProcesses] {
            if let n = d.integer(v, in: 16...65_536) { coding.maxProcesses = n } else { ok = false }
        }
        if let v = fields[.writable] {
            if let folders = readAbsoluteFolders(v, into: &d) { coding.writable = folders } else { ok = false }
        }
        if let v = fields[.protected] {
            if let items = d.textList(v) {
                for item in items {
                    // Folders end in '/', globs are allowed; only escaping the repository is refused.
                    let trimmed = item.text.hasSuffix("/") ? String(item.text.dropLast()) : item.text
                    if let problem = RepositoryPath.problem(with: trimmed) {
                        d.error("protected path '\(item.text)' \(problem)", at: item.mark)
                        ok = false
                    }
                }
                coding.protected = items.map(\.text)
            } else {
                ok = false
            }
        }
        return ok ? coding : nil
    }

    private static func readNotifications(_ value: FieldValue, into d: inout DiagnosticCollector) -> [ProjectConfig.Notification]? {
        guard let items = d.list(value) else { return nil }
        var result: [ProjectConfig.Notification] = []
        var ok = true
        var seen: [String: YAMLMark] = [:]
        for item in items {
            guard let fields = d.fields(of: item, as: NotificationKey.self, refused: notificationRefused) else {
                ok = false
                continue
            }
            d.require([.name, .kind, .url], in: fields)
            let name = fields[.name].flatMap { d.text($0) }
            if let name, let v = fields[.name] {
                if let first = seen[name] {
                    d.error("notification name '\(name)' is used twice (first at line \(first.line)); give each a different name", at: d.mark(v))
                    ok = false
                }
                seen[name] = d.mark(v)
            }
            let kind = fields[.kind].flatMap { d.choice($0, of: ProjectConfig.Notification.Kind.self) }
            var url: String?
            if let v = fields[.url], let u = d.text(v) {
                if let problem = urlProblem(u) {
                    d.error("'\(d.name(v))' is '\(u)', which \(problem)", at: d.mark(v))
                } else {
                    url = u
                }
            }
            var secretEnv: String?
            if let v = fields[.secretEnv], let s = d.text(v) {
                if isEnvironmentVariableName(s) {
                    secretEnv = s
                } else {
                    d.error(
                        "'\(d.name(v))' must be the name of an environment variable (like DEVSYS_WEBHOOK_SECRET), not the secret itself",
                        at: d.mark(v)
                    )
                    ok = false
                }
            } else if fields[.secretEnv] != nil {
                ok = false
            }
            var events: [String] = []
            if let v = fields[.events] {
                // Each a kind of event the controller writes (`devsys events` shows them).
                if let items = d.list(v) {
                    for item in items {
                        if let kind = d.choice(item, of: EventKind.self) { events.append(kind.rawValue) } else { ok = false }
                    }
                } else {
                    ok = false
                }
            }
            if let name, let kind, let url {
                result.append(.init(name: name, kind: kind, url: url, secretEnv: secretEnv, events: events))
            } else {
                ok = false
            }
        }
        return ok ? result : nil
    }

    // MARK: Rules

    /// Why `name` cannot be a git branch name (a simplified `git check-ref-format`), or nil.
    static func branchNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.hasPrefix("-") || name.hasPrefix("/") || name.hasSuffix("/") || name.hasSuffix(".") || name.hasSuffix(".lock") {
            return "is not a valid branch name; use a name like 'main'"
        }
        if name.contains("..") || name.contains("//") || name.contains("@{") {
            return "is not a valid branch name; use a name like 'main'"
        }
        for scalar in name.unicodeScalars where scalar.value < 0x21 || scalar.value == 0x7F || "~^:?*[\\".unicodeScalars.contains(scalar) {
            return "contains '\(scalar.escaped(asASCII: true))', which git does not allow in branch names"
        }
        return nil
    }

    static func urlProblem(_ url: String) -> String? {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { return "is not an http:// or https:// URL" }
        guard let parsed = URL(string: url), parsed.host != nil else { return "is not a valid URL" }
        if parsed.password != nil { return "holds a password; secrets are never written in devsys.yaml" }
        return nil
    }

    static func isEnvironmentVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

extension DiagnosticCollector {
    /// Reads a mapping of names to settings (`apps`, `environments`, `hosts`), in file order.
    /// Names must be short words usable in paths and refs: letters, digits, `.`, `_`, `-`.
    mutating func namedEntries(_ value: FieldValue, what: String) -> [(name: String, value: FieldValue)]? {
        guard let pairs = pairs(value) else {
            if document.isEmptyValue(value.node) {
                error("'\(name(value))' is empty; name at least one \(what), or remove the line", at: mark(value))
            } else {
                error("'\(name(value))' must be a mapping of \(what) names to their settings, found \(describe(value.node))", at: mark(value))
            }
            return nil
        }
        var result: [(name: String, value: FieldValue)] = []
        var seen: [String: YAMLMark] = [:]
        for pair in pairs {
            let keyMark = document.mark(pair.key)
            let type = document.kind(pair.key) == .scalar ? document.scalarType(pair.key) : nil
            guard let type, type == .string || type.isNumber else {
                error("\(what) names must be text, found \(describe(pair.key))", at: keyMark)
                continue
            }
            let name = document.string(pair.key)
            if let first = seen[name] {
                error("\(what) '\(name)' is defined twice (first at line \(first.line)); keep one", at: keyMark)
                continue
            }
            seen[name] = keyMark
            if let problem = ProjectConfig.nameProblem(name) {
                error("\(what) name \(name.quotedForMessage) \(problem)", at: keyMark)
            }
            result.append((name, FieldValue(node: pair.value)))
        }
        return result
    }
}

extension PlainScalarType {
    var isNumber: Bool {
        switch self {
        case .int, .bigInt, .float: return true
        default: return false
        }
    }
}
