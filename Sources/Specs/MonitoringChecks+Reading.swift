import Foundation

enum ChecksFileKey: String, YAMLKey {
    case checks
    case regressionWindowSeconds = "regression_window_s"

    static let table = YAMLKeyTable<Self>()
}

enum CheckKey: String, YAMLKey {
    case name, env, http, tcp, script, log, synthetic
    case intervalSeconds = "interval_s"
    case timeoutSeconds = "timeout_s"
    case failureThreshold = "failure_threshold"
    case successThreshold = "success_threshold"
    case dependsOn = "depends_on"
    case maintenance

    static let probes: [CheckKey] = [.http, .tcp, .script, .log, .synthetic]
    static let table = YAMLKeyTable<Self>()
}

enum HTTPCheckKey: String, YAMLKey {
    case path, url, method, headers, body, status
    case bodyContains = "body_contains"
    case bodyRegex = "body_regex"
    case json
    case maxMilliseconds = "max_ms"
    case certMinDays = "cert_min_days"

    static let table = YAMLKeyTable<Self>()
}

enum JSONFieldKey: String, YAMLKey {
    case field, equals

    static let table = YAMLKeyTable<Self>()
}

enum TCPCheckKey: String, YAMLKey {
    case address, port, send, expect

    static let table = YAMLKeyTable<Self>()
}

enum ScriptCheckKey: String, YAMLKey {
    case run

    static let table = YAMLKeyTable<Self>()
}

enum LogCheckKey: String, YAMLKey {
    case file, absent, present

    static let table = YAMLKeyTable<Self>()
}

enum CaptureKey: String, YAMLKey {
    case regex, json, header

    static let table = YAMLKeyTable<Self>()
}

enum MaintenanceKey: String, YAMLKey {
    case start
    case durationMinutes = "duration_m"
    case weekdays, timezone

    static let table = YAMLKeyTable<Self>()
}

enum SyntheticStepKey: String, YAMLKey {
    case method, path, form, headers, body, status
    case bodyContains = "body_contains"
    case capture

    static let table = YAMLKeyTable<Self>()
}

enum MonitoringChecksReader {
    static func read(_ data: Data, path: String, environments: Set<String>?) -> (checks: MonitoringChecks?, diagnostics: [Diagnostic]) {
        var d = DiagnosticCollector(path: path)
        var result: MonitoringChecks?
        switch YAMLDocumentReader.read(data, into: &d) {
        case .failed:
            break
        case .empty:
            result = MonitoringChecks(checks: [])
        case .document(let document):
            result = read(document, environments: environments, into: &d)
        }
        return (d.hasErrors ? nil : result, Diagnostic.sortedForReading(d.diagnostics))
    }

    private static func read(_ document: YAMLDocument, environments: Set<String>?, into d: inout DiagnosticCollector) -> MonitoringChecks? {
        d.document = document
        guard let fields = d.fields(of: .root, as: ChecksFileKey.self) else { return nil }
        d.require([.checks], in: fields)
        var window = MonitoringChecks.defaultRegressionWindowSeconds
        var ok = true
        if let v = fields[.regressionWindowSeconds] {
            if let n = d.integer(v, in: 1...604_800) { window = n } else { ok = false }
        }
        guard let value = fields[.checks], let items = d.list(value) else { return nil }
        var checks: [MonitoringChecks.Check] = []
        var names: [String: YAMLMark] = [:]
        var dependencies: [(check: String, on: [TextItem])] = []
        for item in items {
            var on: [TextItem] = []
            guard let check = readCheck(item, environments: environments, names: &names, dependsOn: &on, into: &d) else {
                ok = false
                continue
            }
            checks.append(check)
            dependencies.append((check.name, on))
        }
        ok = checkDependencies(dependencies, names: names, into: &d) && ok
        return ok ? MonitoringChecks(checks: checks, regressionWindowSeconds: window) : nil
    }

    /// Every `depends_on` names another check of the file, and no check depends on itself through
    /// others: a cycle would leave each of its checks silenced by the next.
    private static func checkDependencies(
        _ dependencies: [(check: String, on: [TextItem])],
        names: [String: YAMLMark],
        into d: inout DiagnosticCollector
    ) -> Bool {
        var ok = true
        for (check, on) in dependencies {
            for item in on {
                if item.text == check {
                    d.error("check '\(check)' depends on itself; name other checks in 'depends_on'", at: item.mark)
                    ok = false
                } else if names[item.text] == nil {
                    d.error(
                        "check '\(check)' depends on '\(item.text)', which is not a check in this file"
                            + DidYouMean.hint(for: item.text, among: names.keys.sorted()),
                        at: item.mark
                    )
                    ok = false
                }
            }
        }
        let edges = Dictionary(dependencies.map { ($0.check, $0.on.map(\.text)) }, uniquingKeysWith: { first, _ in first })
        var reported = Set<String>()
        for (check, on) in dependencies where !reported.contains(check) {
            // The entry to blame is the one that leads on around the circle: the edge to its second check.
            guard let cycle = Self.cycle(from: check, edges: edges), let first = on.first(where: { $0.text == cycle[1] }) else { continue }
            reported.formUnion(cycle)
            d.error(
                "checks depend on each other in a circle: \((cycle + [check]).joined(separator: " → ")); remove one of these 'depends_on' entries",
                at: first.mark
            )
            ok = false
        }
        return ok
    }

    /// The checks on a path from `start` back to itself, `start` first; nil when there is none.
    private static func cycle(from start: String, edges: [String: [String]]) -> [String]? {
        var path = [start]
        var visited = Set<String>()
        func walk(_ node: String) -> Bool {
            for next in edges[node] ?? [] where next != node {
                if next == start { return true }
                guard visited.insert(next).inserted else { continue }
                path.append(next)
                if walk(next) { return true }
                path.removeLast()
            }
            return false
        }
        return walk(start) ? path : nil
    }

    private static func readCheck(
        _ item: FieldValue,
        environments: Set<String>?,
        names: inout [String: YAMLMark],
        dependsOn: inout [TextItem],
        into d: inout DiagnosticCollector
    ) -> MonitoringChecks.Check? {
        guard let fields = d.fields(of: item, as: CheckKey.self) else { return nil }
        d.require([.name], in: fields, what: "give each check a name")
        var ok = true
        let name = fields[.name].flatMap { d.text($0) }
        if let name, let v = fields[.name] {
            if let first = names[name] {
                d.error("check name '\(name)' is used twice (first at line \(first.line)); give each check its own name", at: d.mark(v))
                ok = false
            }
            names[name] = d.mark(v)
        }
        var env: String?
        if let v = fields[.env], let e = d.text(v) {
            env = e
            if let environments, !environments.contains(e) {
                let hint = environments.isEmpty ? "; devsys.yaml names no environments" : DidYouMean.hint(for: e, among: environments.sorted())
                d.error("environment '\(e)' is not in devsys.yaml\(hint)", at: d.mark(v))
                ok = false
            }
        } else if fields[.env] != nil {
            ok = false
        }

        let probeFields = CheckKey.probes.compactMap { key in fields[key].map { (key, $0) } }
        var probe: MonitoringChecks.Probe?
        let label = name.map { "check '\($0)'" } ?? d.name(item)
        if probeFields.isEmpty {
            d.error("\(label) has no probe; give it exactly one of http, tcp, script, log, synthetic", at: fields.mark)
        } else if probeFields.count > 1 {
            let kinds = probeFields.map(\.0.rawValue).joined(separator: " and ")
            d.error("\(label) has \(kinds); give each check exactly one probe (split it into several checks)", at: d.keyMark(probeFields[1].1))
        } else {
            let (kind, value) = probeFields[0]
            // An http check with a full `url` asks that URL; the others ask every host of the env.
            let asksURL = kind == .http && (d.pairs(value)?.contains { d.document.string($0.key) == HTTPCheckKey.url.rawValue } ?? false)
            if [.http, .log, .synthetic].contains(kind) && !asksURL && fields[.env] == nil {
                d.error("\(label) needs 'env': \(kind.rawValue) checks run against every host of an environment", at: fields.mark)
                ok = false
            }
            switch kind {
            case .http: probe = readHTTP(value, into: &d).map { .http($0) }
            case .tcp: probe = readTCP(value, hasEnv: fields[.env] != nil, into: &d).map { .tcp($0) }
            case .script:
                if let section = d.fields(of: value, as: ScriptCheckKey.self) {
                    d.require([.run], in: section, what: "the command to run")
                    probe = section[.run].flatMap { d.text($0) }.map { .script(.init(run: $0)) }
                }
            case .log: probe = readLog(value, into: &d).map { .log($0) }
            case .synthetic: probe = readSynthetic(value, into: &d).map { .synthetic($0) }
            default: break
            }
        }

        var check = MonitoringChecks.Check(name: name ?? "", env: env, probe: probe ?? .script(.init(run: "")))
        if let v = fields[.intervalSeconds] {
            if let n = d.integer(v, in: 1...86_400) { check.intervalSeconds = n } else { ok = false }
        }
        if let v = fields[.timeoutSeconds] {
            if let n = d.integer(v, in: 1...3600) { check.timeoutSeconds = n } else { ok = false }
        }
        if let v = fields[.failureThreshold] {
            if let n = d.integer(v, in: 1...100) { check.failureThreshold = n } else { ok = false }
        }
        if let v = fields[.successThreshold] {
            if let n = d.integer(v, in: 1...100) { check.successThreshold = n } else { ok = false }
        }
        if let v = fields[.dependsOn] {
            if let items = d.textList(v) {
                dependsOn = items
                check.dependsOn = items.map(\.text)
            } else {
                ok = false
            }
        }
        if let v = fields[.maintenance] {
            if let windows = readMaintenance(v, into: &d) { check.maintenance = windows } else { ok = false }
        }
        if check.timeoutSeconds > check.intervalSeconds, let v = fields[.timeoutSeconds] ?? fields[.intervalSeconds] {
            d.warning(
                "\(label): timeout_s (\(check.timeoutSeconds)) is longer than interval_s (\(check.intervalSeconds)); "
                    + "a slow probe will delay the next one",
                at: d.mark(v)
            )
        }
        guard ok, name != nil, probe != nil else { return nil }
        return check
    }

    /// `maintenance:` — a list of `{start: "HH:MM", duration_m, weekdays: [mon…], timezone}`.
    private static func readMaintenance(_ value: FieldValue, into d: inout DiagnosticCollector) -> [MonitoringChecks.MaintenanceWindow]? {
        guard let items = d.list(value) else { return nil }
        var windows: [MonitoringChecks.MaintenanceWindow] = []
        var ok = true
        for item in items {
            guard let fields = d.fields(of: item, as: MaintenanceKey.self) else {
                ok = false
                continue
            }
            d.require([.start, .durationMinutes], in: fields)
            var window = MonitoringChecks.MaintenanceWindow(startMinute: 0, durationMinutes: 0)
            var complete = fields[.start] != nil && fields[.durationMinutes] != nil
            if let v = fields[.start], let text = d.text(v) {
                if let minute = Self.minuteOfDay(text) {
                    window.startMinute = minute
                } else {
                    d.error("'\(d.name(v))' is '\(text)'; give the time of day as \"HH:MM\", like \"02:30\"", at: d.mark(v))
                    complete = false
                }
            } else if fields[.start] != nil {
                complete = false
            }
            if let v = fields[.durationMinutes] {
                if let n = d.integer(v, in: 1...10_080) { window.durationMinutes = n } else { complete = false }
            }
            if let v = fields[.weekdays] {
                if let days = d.list(v) {
                    for day in days {
                        if let weekday = d.choice(day, of: MonitoringChecks.MaintenanceWindow.Weekday.self) {
                            window.weekdays.insert(weekday)
                        } else {
                            complete = false
                        }
                    }
                } else {
                    complete = false
                }
            }
            if let v = fields[.timezone], let zone = d.text(v) {
                if TimeZone(identifier: zone) != nil {
                    window.timeZone = zone
                } else {
                    d.error("'\(d.name(v))' is '\(zone)', which is not a time zone; give an IANA name like 'Europe/Berlin' or 'UTC'", at: d.mark(v))
                    complete = false
                }
            } else if fields[.timezone] != nil {
                complete = false
            }
            if complete { windows.append(window) } else { ok = false }
        }
        return ok ? windows : nil
    }

    /// `"HH:MM"` (24-hour) as minutes after midnight.
    static func minuteOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    private static func readPath(_ value: FieldValue?, into d: inout DiagnosticCollector) -> String? {
        guard let value, let text = d.text(value) else { return nil }
        guard text.hasPrefix("/") else {
            d.error("'\(d.name(value))' is '\(text)'; a request path starts with '/', like '/\(text)'", at: d.mark(value))
            return nil
        }
        return text
    }

    private static func readHTTP(_ value: FieldValue, into d: inout DiagnosticCollector) -> MonitoringChecks.HTTPCheck? {
        guard let fields = d.fields(of: value, as: HTTPCheckKey.self) else { return nil }
        var ok = true
        var check = MonitoringChecks.HTTPCheck()
        switch (fields[.path], fields[.url]) {
        case (nil, nil):
            d.error("'\(d.name(value))' needs 'path' (asked of each host of the env) or 'url' (a full URL)", at: fields.mark)
            ok = false
        case (.some, .some(let url)):
            d.error("'\(d.name(value))' has both 'path' and 'url'; give one of them", at: d.keyMark(url))
            ok = false
        case (.some(let path), nil):
            check.path = readPath(path, into: &d)
            ok = check.path != nil
        case (nil, .some(let url)):
            check.url = readURL(url, into: &d)
            ok = check.url != nil
        }
        if let v = fields[.method] {
            if let method = d.choice(v, of: MonitoringChecks.HTTPMethod.self) { check.method = method } else { ok = false }
        }
        if let v = fields[.headers] {
            if let headers = readHeaders(v, into: &d) { check.headers = headers } else { ok = false }
        }
        if let v = fields[.body] {
            check.body = d.text(v, allowEmpty: true)
            ok = ok && check.body != nil
        }
        if let v = fields[.certMinDays] {
            if let n = d.integer(v, in: 1...3650) {
                check.certMinDays = n
                if let url = check.url, !url.lowercased().hasPrefix("https://") {
                    d.error("'\(d.name(v))' checks a TLS certificate, but '\(url)' is not https", at: d.mark(v))
                    ok = false
                }
            } else {
                ok = false
            }
        }
        if let v = fields[.status] {
            if let n = d.integer(v, in: 100...599) { check.status = n } else { ok = false }
        }
        if let v = fields[.bodyContains] {
            check.bodyContains = d.text(v)
            ok = ok && check.bodyContains != nil
        }
        if let v = fields[.bodyRegex] {
            if let pattern = d.text(v) {
                do {
                    _ = try NSRegularExpression(pattern: pattern)
                    check.bodyRegex = pattern
                } catch {
                    d.error("'\(d.name(v))' is not a valid regular expression; check its brackets and escapes", at: d.mark(v))
                    ok = false
                }
            } else {
                ok = false
            }
        }
        if let v = fields[.json] {
            if let section = d.fields(of: v, as: JSONFieldKey.self) {
                d.require([.field], in: section, what: "the dotted path of the field, like 'data.status'")
                let field = section[.field].flatMap { d.text($0) }
                var equals: String?
                if let e = section[.equals] {
                    if d.document.kind(e.node) == .scalar, !d.document.isEmptyValue(e.node) {
                        equals = d.document.string(e.node)
                    } else {
                        d.error("'\(d.name(e))' must be a single value to compare with, found \(d.describe(e.node))", at: d.mark(e))
                        ok = false
                    }
                }
                if let field { check.json = .init(field: field, equals: equals) } else { ok = false }
            } else {
                ok = false
            }
        }
        if let v = fields[.maxMilliseconds] {
            if let n = d.integer(v, in: 1...600_000) { check.maxMilliseconds = n } else { ok = false }
        }
        return ok ? check : nil
    }

    /// A full http(s) URL with a host.
    private static func readURL(_ value: FieldValue, into d: inout DiagnosticCollector) -> String? {
        guard let text = d.text(value) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            d.error("'\(d.name(value))' is '\(text)'; give a full http or https URL, like 'https://example.com/health'", at: d.mark(value))
            return nil
        }
        return text
    }

    /// `headers:` — a mapping of header names to single values.
    private static func readHeaders(_ value: FieldValue, into d: inout DiagnosticCollector) -> [MonitoringChecks.Header]? {
        guard let pairs = d.pairs(value) else {
            d.error("'\(d.name(value))' must be a mapping of header names to values, found \(d.describe(value.node))", at: d.mark(value))
            return nil
        }
        var headers: [MonitoringChecks.Header] = []
        var ok = true
        for pair in pairs {
            let name = d.document.string(pair.key)
            guard d.document.kind(pair.value) == .scalar, !name.isEmpty,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) })
            else {
                d.error("'\(d.name(value))' maps header names (letters, digits, '-') to single values", at: d.document.mark(pair.key))
                ok = false
                continue
            }
            headers.append(.init(name: name, value: d.document.string(pair.value)))
        }
        return ok ? headers : nil
    }

    private static func readTCP(_ value: FieldValue, hasEnv: Bool, into d: inout DiagnosticCollector) -> MonitoringChecks.TCPCheck? {
        guard let fields = d.fields(of: value, as: TCPCheckKey.self) else { return nil }
        d.require([.port], in: fields)
        if !hasEnv { d.require([.address], in: fields, what: "without 'env', say which machine to connect to") }
        var ok = true
        var address: String?
        if let v = fields[.address] {
            address = d.text(v)
            ok = address != nil
        }
        var send: String?
        if let v = fields[.send] {
            send = d.text(v)
            ok = ok && send != nil
        }
        var expect: String?
        if let v = fields[.expect] {
            expect = d.text(v)
            ok = ok && expect != nil
        }
        guard let v = fields[.port], let port = d.integer(v, in: 1...65535), ok else { return nil }
        if !hasEnv && address == nil { return nil }
        return .init(address: address, port: port, send: send, expect: expect)
    }

    private static func readLog(_ value: FieldValue, into d: inout DiagnosticCollector) -> MonitoringChecks.LogCheck? {
        guard let fields = d.fields(of: value, as: LogCheckKey.self) else { return nil }
        d.require([.file], in: fields, what: "the log file on the host, like '/var/log/php/error.log'")
        var file: String?
        if let v = fields[.file], let f = d.text(v) {
            if f.hasPrefix("/") {
                file = f
            } else {
                d.error("'\(d.name(v))' is '\(f)'; give the absolute path of the log file on the host", at: d.mark(v))
            }
        }
        var expectation: MonitoringChecks.LogCheck.Expectation?
        switch (fields[.absent], fields[.present]) {
        case (nil, nil):
            d.error("'\(d.name(value))' needs 'absent' (text that must not appear) or 'present' (text that must)", at: fields.mark)
        case (.some, .some(let present)):
            d.error("'\(d.name(value))' has both 'absent' and 'present'; use one of them (or two checks)", at: d.keyMark(present))
        case (.some(let absent), nil):
            expectation = d.text(absent).map { .absent($0) }
        case (nil, .some(let present)):
            expectation = d.text(present).map { .present($0) }
        }
        guard let file, let expectation else { return nil }
        return .init(file: file, expectation: expectation)
    }

    private static func readSynthetic(_ value: FieldValue, into d: inout DiagnosticCollector) -> [MonitoringChecks.SyntheticStep]? {
        guard let items = d.list(value) else { return nil }
        guard !items.isEmpty else {
            d.error("'\(d.name(value))' is empty; list at least one step", at: d.mark(value))
            return nil
        }
        var steps: [MonitoringChecks.SyntheticStep] = []
        var captured = Set<String>()
        var ok = true
        for item in items {
            guard let fields = d.fields(of: item, as: SyntheticStepKey.self) else {
                ok = false
                continue
            }
            d.require([.path], in: fields, what: "the request path")
            var step = MonitoringChecks.SyntheticStep(path: "/")
            if let v = fields[.method] {
                if let m = d.choice(v, of: MonitoringChecks.SyntheticStep.Method.self) { step.method = m } else { ok = false }
            }
            if let path = readPath(fields[.path], into: &d) { step.path = path } else { ok = false }
            if let v = fields[.form] {
                if let pairs = d.pairs(v) {
                    for pair in pairs {
                        guard d.document.kind(pair.key) == .scalar, d.document.kind(pair.value) == .scalar else {
                            d.error("'\(d.name(v))' maps field names to single values", at: d.document.mark(pair.key))
                            ok = false
                            continue
                        }
                        step.form.append(.init(name: d.document.string(pair.key), value: d.document.string(pair.value)))
                    }
                } else {
                    d.error("'\(d.name(v))' must be a mapping of form field names to values, found \(d.describe(v.node))", at: d.mark(v))
                    ok = false
                }
            }
            if let v = fields[.headers] {
                if let headers = readHeaders(v, into: &d) { step.headers = headers } else { ok = false }
            }
            if let v = fields[.body] {
                step.body = d.text(v, allowEmpty: true)
                ok = ok && step.body != nil
            }
            if let v = fields[.status] {
                if let n = d.integer(v, in: 100...599) { step.status = n } else { ok = false }
            }
            if let v = fields[.bodyContains] {
                step.bodyContains = d.text(v)
                ok = ok && step.bodyContains != nil
            }
            // A value is used only by a step after the one that captures it.
            let uses = [step.path] + step.form.map(\.value) + step.headers.map(\.value) + [step.body].compactMap { $0 }
            for name in Set(uses.flatMap(Self.references)).sorted() where !captured.contains(name) {
                d.error(
                    "step \(steps.count + 1) uses '${\(name)}', which no step before it captures; "
                        + "add 'capture: { \(name): { regex: … } }' to an earlier step",
                    at: fields.mark
                )
                ok = false
            }
            if let v = fields[.capture] {
                if let captures = readCaptures(v, into: &d) {
                    step.captures = captures
                    captured.formUnion(captures.map(\.name))
                } else {
                    ok = false
                }
            }
            steps.append(step)
        }
        return ok ? steps : nil
    }

    /// The names a text refers to as `${name}`.
    static func references(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: "}") else { break }
            names.append(String(rest[..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// `capture:` — a mapping of names to one source each: `regex` (with a group), `json` or `header`.
    private static func readCaptures(_ value: FieldValue, into d: inout DiagnosticCollector) -> [MonitoringChecks.Capture]? {
        guard let pairs = d.pairs(value) else {
            d.error("'\(d.name(value))' must map names to what to capture, like 'token: { regex: \"token=(\\\\w+)\" }'", at: d.mark(value))
            return nil
        }
        var captures: [MonitoringChecks.Capture] = []
        var ok = true
        for pair in pairs {
            let name = d.document.string(pair.key)
            guard name.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else {
                d.error("'\(name)' cannot name a captured value: use letters, digits and '_', like 'csrf_token'", at: d.document.mark(pair.key))
                ok = false
                continue
            }
            let field = FieldValue(node: pair.value)
            guard let sources = d.fields(of: field, as: CaptureKey.self) else {
                ok = false
                continue
            }
            let given = [CaptureKey.regex, .json, .header].compactMap { key in sources[key].map { (key, $0) } }
            guard given.count == 1, let (key, source) = given.first, let text = d.text(source) else {
                if given.count != 1 {
                    d.error("capture '\(name)' needs exactly one of regex, json, header", at: d.document.mark(pair.key))
                }
                ok = false
                continue
            }
            switch key {
            case .regex:
                guard let pattern = try? NSRegularExpression(pattern: text), pattern.numberOfCaptureGroups >= 1 else {
                    d.error(
                        "capture '\(name)': '\(text)' must be a valid regular expression with a group, like 'token=(\\w+)'; its first group is the value",
                        at: d.mark(source)
                    )
                    ok = false
                    continue
                }
                captures.append(.init(name: name, source: .regex(text)))
            case .json: captures.append(.init(name: name, source: .json(text)))
            case .header: captures.append(.init(name: name, source: .header(text)))
            }
        }
        return ok ? captures : nil
    }
}
