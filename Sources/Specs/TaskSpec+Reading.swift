import Foundation

/// What reading one task.yaml found: the spec when it is valid, the diagnostics, and the values
/// (with positions) that the tree-level checks need even when other parts of the spec are wrong.
struct ParsedTaskSpec {
    var spec: TaskSpec?
    var diagnostics: [Diagnostic]
    var id: TextItem?
    var app: TextItem?
    var deployEnv: TextItem?
    var relatedTasks: [TextItem] = []
}

enum TaskSpecKey: String, YAMLKey {
    case id, title, kind, app, story, acceptance
    case resourceRequirements = "resource_requirements"
    case tags
    case relatedTasks = "related_tasks"
    case expectedArtifacts = "expected_artifacts"
    case retryPolicy = "retry_policy"
    case agent, review, deploy

    static let table = YAMLKeyTable<Self>()
}

enum AcceptanceKey: String, YAMLKey {
    case name, http, run

    static let table = YAMLKeyTable<Self>()
}

enum HTTPProbeKey: String, YAMLKey {
    case path, status
    case bodyContains = "body_contains"

    static let table = YAMLKeyTable<Self>()
}

enum ResourceKey: String, YAMLKey {
    case timeoutSeconds = "timeout_s"
    case memoryMB = "memory_mb"
    case cpus

    static let table = YAMLKeyTable<Self>()
}

enum RetryKey: String, YAMLKey {
    case maxAttempts = "max_attempts"
    case backoffSeconds = "backoff_s"
    case maxBackoffSeconds = "max_backoff_s"

    static let table = YAMLKeyTable<Self>()
}

enum AgentKey: String, YAMLKey {
    case capabilities

    static let table = YAMLKeyTable<Self>()
}

enum DeployKey: String, YAMLKey {
    case env

    static let table = YAMLKeyTable<Self>()
}

/// Reads task.yaml into a `TaskSpec`, collecting every problem on the way.
enum TaskSpecReader {
    static let maxTitleLength = 200

    /// Keys people put at the top level that belong in a section.
    static let placementHints: [String: String] = [
        "timeout_s": "resource_requirements", "memory_mb": "resource_requirements", "cpus": "resource_requirements",
        "max_attempts": "retry_policy", "backoff_s": "retry_policy", "max_backoff_s": "retry_policy",
        "capabilities": "agent", "env": "deploy", "http": "acceptance", "run": "acceptance",
    ]

    static func read(_ data: Data, path: String) -> ParsedTaskSpec {
        var diagnostics = DiagnosticCollector(path: path)
        var parsed = ParsedTaskSpec(spec: nil, diagnostics: [])
        var spec: TaskSpec?
        switch YAMLDocumentReader.read(data, into: &diagnostics) {
        case .failed:
            break
        case .empty:
            diagnostics.error(
                "task.yaml is empty; it needs at least id, title, kind, app and acceptance",
                at: .startOfFile
            )
        case .document(let document):
            spec = read(document, into: &diagnostics, parsed: &parsed)
        }
        if !diagnostics.hasErrors { parsed.spec = spec }
        if !diagnostics.diagnostics.isEmpty { parsed.diagnostics = Diagnostic.sortedForReading(diagnostics.diagnostics) }
        return parsed
    }

    private static func read(_ document: YAMLDocument, into d: inout DiagnosticCollector, parsed: inout ParsedTaskSpec) -> TaskSpec? {
        d.document = document
        guard let fields = d.fields(of: .root, as: TaskSpecKey.self, placementHints: placementHints) else { return nil }
        d.require([.id, .title, .kind, .app, .acceptance], in: fields)

        var id: String?
        if let value = fields[.id], let text = d.text(value) {
            if let problem = TaskID.problem(with: text, what: "id") {
                d.error(problem, at: d.mark(value))
            } else {
                id = text
            }
            parsed.id = TextItem(text: text, mark: d.mark(value))
        }
        var title: String?
        if let value = fields[.title], let text = d.text(value) {
            let length = text.unicodeScalars.count
            if length > maxTitleLength {
                d.error("'title' is \(length) characters long; keep it to \(maxTitleLength) and put details in 'story'", at: d.mark(value))
            } else {
                title = text
            }
        }
        let kind = fields[.kind].flatMap { d.choice($0, of: TaskSpec.Kind.self) }
        var app: String?
        if let value = fields[.app], let text = d.text(value) {
            app = text
            parsed.app = TextItem(text: text, mark: d.mark(value))
        }
        var story = ""
        if let value = fields[.story] { story = d.text(value, allowEmpty: true) ?? "" }

        let acceptance = fields[.acceptance].flatMap { readAcceptance($0, into: &d) }

        var resources = TaskSpec.ResourceRequirements()
        if let value = fields[.resourceRequirements], let section = d.fields(of: value, as: ResourceKey.self) {
            if let v = section[.timeoutSeconds], let n = d.integer(v, in: 1...86_400) { resources.timeoutSeconds = n }
            if let v = section[.memoryMB], let n = d.integer(v, in: 1...1_048_576) { resources.memoryMB = n }
            if let v = section[.cpus], let n = d.number(v, above: 0, atMost: 1024) { resources.cpus = n }
        }

        let tags = fields[.tags].flatMap { d.texts($0) } ?? []

        var relatedTasks: [String] = []
        if let value = fields[.relatedTasks], let items = d.textList(value) {
            for item in items {
                if let problem = TaskID.problem(with: item.text, what: "related task") {
                    d.error(problem, at: item.mark)
                } else {
                    relatedTasks.append(item.text)
                    parsed.relatedTasks.append(item)
                }
            }
        }

        var expectedArtifacts: [String] = []
        if let value = fields[.expectedArtifacts], let items = d.textList(value) {
            for item in items {
                if let problem = RepositoryPath.problem(with: item.text) {
                    d.error("expected artifact '\(item.text)' \(problem)", at: item.mark)
                } else {
                    expectedArtifacts.append(item.text)
                }
            }
        }

        var retry = TaskSpec.RetryPolicy()
        if let value = fields[.retryPolicy], let section = d.fields(of: value, as: RetryKey.self) {
            if let v = section[.maxAttempts], let n = d.integer(v, in: 1...100) { retry.maxAttempts = n }
            if let v = section[.backoffSeconds], let n = d.integer(v, in: 0...86_400) { retry.backoffSeconds = n }
            if let v = section[.maxBackoffSeconds], let n = d.integer(v, in: 0...86_400) {
                retry.maxBackoffSeconds = n
                if n < retry.backoffSeconds {
                    d.warning(
                        "'retry_policy.max_backoff_s' (\(n)) is less than 'backoff_s' (\(retry.backoffSeconds)); every wait will be \(n) s",
                        at: d.mark(v)
                    )
                }
            }
        }

        var agent = TaskSpec.AgentRequirements()
        if let value = fields[.agent], let section = d.fields(of: value, as: AgentKey.self) {
            if let v = section[.capabilities], let items = d.texts(v) { agent.capabilities = items }
        }

        let review = fields[.review].flatMap { d.choice($0, of: TaskSpec.Review.self) } ?? .required

        var deploy: TaskSpec.DeployTarget?
        if let value = fields[.deploy], let section = d.fields(of: value, as: DeployKey.self) {
            d.require([.env], in: section, what: "name the environment the merged task is deployed to first")
            if let v = section[.env], let env = d.text(v) {
                deploy = TaskSpec.DeployTarget(env: env)
                parsed.deployEnv = TextItem(text: env, mark: d.mark(v))
            }
        }

        if kind == .followup, relatedTasks.isEmpty, parsed.relatedTasks.isEmpty {
            d.warning("a followup task should name the task it follows up in 'related_tasks'", at: fields[.kind].map { d.mark($0) } ?? fields.mark)
        }

        guard let id, let title, let kind, let app, let acceptance else { return nil }
        return TaskSpec(
            id: id,
            title: title,
            kind: kind,
            app: app,
            story: story,
            acceptance: acceptance,
            resources: resources,
            tags: tags,
            relatedTasks: relatedTasks,
            expectedArtifacts: expectedArtifacts,
            retryPolicy: retry,
            agent: agent,
            review: review,
            deploy: deploy
        )
    }

    private static func readAcceptance(_ value: FieldValue, into d: inout DiagnosticCollector) -> [TaskSpec.AcceptanceCheck]? {
        guard let items = d.list(value) else { return nil }
        guard !items.isEmpty else {
            d.error("'acceptance' is empty; add at least one check (an 'http' request or a 'run' command)", at: d.mark(value))
            return nil
        }
        var checks: [TaskSpec.AcceptanceCheck] = []
        var ok = true
        for item in items {
            guard let fields = d.fields(of: item, as: AcceptanceKey.self) else {
                ok = false
                continue
            }
            d.require([.name], in: fields, what: "give each check a short name")
            let name = fields[.name].flatMap { d.text($0) }
            var probe: TaskSpec.AcceptanceCheck.Probe?
            switch (fields[.http], fields[.run]) {
            case (nil, nil):
                d.error("\(d.name(item)) has no check; give it either 'http' (a request) or 'run' (a command)", at: fields.mark)
            case (.some(let http), .some(let run)):
                let second = (d.keyMark(http).line, d.keyMark(http).column) > (d.keyMark(run).line, d.keyMark(run).column) ? http : run
                d.error("\(d.name(item)) has both 'http' and 'run'; give each check exactly one of them", at: d.keyMark(second))
            case (.some(let http), nil):
                probe = readHTTPProbe(http, into: &d).map { .http($0) }
            case (nil, .some(let run)):
                probe = d.text(run).map { .run($0) }
            }
            if let name, let probe { checks.append(.init(name: name, probe: probe)) } else { ok = false }
        }
        return ok ? checks : nil
    }

    private static func readHTTPProbe(_ value: FieldValue, into d: inout DiagnosticCollector) -> TaskSpec.HTTPProbe? {
        guard let fields = d.fields(of: value, as: HTTPProbeKey.self) else { return nil }
        d.require([.path], in: fields, what: "the request path, like '/about.php'")
        var path: String?
        if let v = fields[.path], let text = d.text(v) {
            if text.hasPrefix("/") {
                path = text
            } else {
                d.error("'\(d.name(v))' is '\(text)'; a request path starts with '/', like '/\(text)'", at: d.mark(v))
            }
        }
        var status = 200
        var statusOK = true
        if let v = fields[.status] {
            if let n = d.integer(v, in: 100...599) { status = n } else { statusOK = false }
        }
        var bodyContains: String?
        var bodyOK = true
        if let v = fields[.bodyContains] {
            bodyContains = d.text(v)
            bodyOK = bodyContains != nil
        }
        guard let path, statusOK, bodyOK else { return nil }
        return TaskSpec.HTTPProbe(path: path, status: status, bodyContains: bodyContains)
    }
}
