import Foundation

/// `monitoring/checks.yaml`: what the monitor agent probes, how often, and when a check turns
/// red or green again (DESIGN §5).
///
/// Each check has a `name` (unique), an optional `env` (an environment in devsys.yaml; required for
/// `http`, `log` and `synthetic`, which run against every host of the environment) and exactly
/// one probe:
///
/// | probe | keys |
/// |---|---|
/// | `http` | `path` (required, starts with `/`), `status` (default 200), `body_contains`, `body_regex`, `json: {field, equals}`, `max_ms` |
/// | `tcp` | `port` (required), `address` (required without `env`) |
/// | `script` | `run` (required): a command, run from the repository root; passes when it exits 0 |
/// | `log` | `file` (required, absolute), and exactly one of `absent` / `present`: text to look for |
/// | `synthetic` | list of steps `{method (default GET), path, form, status (default 200), body_contains}`; cookies are kept between steps |
///
/// Timing, per check: `interval_s` (default 30), `timeout_s` (default 10), `failure_threshold`
/// (failures in a row before the check turns red; default 3), `success_threshold` (successes in a
/// row before it turns green again; default 1).
public struct MonitoringChecks: Hashable, Sendable {
    public struct Check: Hashable, Sendable {
        public var name: String
        public var env: String?
        public var probe: Probe
        public var intervalSeconds: Int
        public var timeoutSeconds: Int
        public var failureThreshold: Int
        public var successThreshold: Int
        /// Names of other checks: while one of them is red, this one raises no regression or alert.
        public var dependsOn: [String]
        /// When a failure raises no regression or alert (it is still recorded).
        public var maintenance: [MaintenanceWindow]

        public init(
            name: String,
            env: String? = nil,
            probe: Probe,
            intervalSeconds: Int = 30,
            timeoutSeconds: Int = 10,
            failureThreshold: Int = 3,
            successThreshold: Int = 2,
            dependsOn: [String] = [],
            maintenance: [MaintenanceWindow] = []
        ) {
            self.name = name
            self.env = env
            self.probe = probe
            self.intervalSeconds = intervalSeconds
            self.timeoutSeconds = timeoutSeconds
            self.failureThreshold = failureThreshold
            self.successThreshold = successThreshold
            self.dependsOn = dependsOn
            self.maintenance = maintenance
        }
    }

    public enum Probe: Hashable, Sendable {
        case http(HTTPCheck)
        case tcp(TCPCheck)
        case script(ScriptCheck)
        case log(LogCheck)
        case synthetic([SyntheticStep])
    }

    /// An HTTP request method a check may send.
    public enum HTTPMethod: String, Hashable, Sendable, CaseIterable {
        case GET, POST, PUT, PATCH, DELETE, HEAD
    }

    /// A name and its value, in file order: a request header, or a form field.
    public struct NamedValue: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public typealias Header = NamedValue
    /// A form field, sent URL-encoded.
    public typealias FormField = NamedValue

    public struct HTTPCheck: Hashable, Sendable {
        /// Asked of every host of the check's environment (its `url` + `path`); nil when `url` is set.
        public var path: String?
        /// A full URL, asked as it is instead of the environment's hosts.
        public var url: String?
        public var method: HTTPMethod
        public var headers: [Header]
        /// The request body, sent as it is.
        public var body: String?
        public var status: Int
        public var bodyContains: String?
        /// A regular expression (ICU syntax) the body must match.
        public var bodyRegex: String?
        public var json: JSONFieldCheck?
        /// Slowest acceptable response, in milliseconds.
        public var maxMilliseconds: Int?
        /// For https: the server's certificate must stay valid at least this many more days.
        public var certMinDays: Int?

        public init(
            path: String? = nil,
            url: String? = nil,
            method: HTTPMethod = .GET,
            headers: [Header] = [],
            body: String? = nil,
            status: Int = 200,
            bodyContains: String? = nil,
            bodyRegex: String? = nil,
            json: JSONFieldCheck? = nil,
            maxMilliseconds: Int? = nil,
            certMinDays: Int? = nil
        ) {
            self.path = path
            self.url = url
            self.method = method
            self.headers = headers
            self.body = body
            self.status = status
            self.bodyContains = bodyContains
            self.bodyRegex = bodyRegex
            self.json = json
            self.maxMilliseconds = maxMilliseconds
            self.certMinDays = certMinDays
        }
    }

    /// A field of a JSON response body, by dotted path (`data.status`); it must exist, and equal
    /// `equals` (compared as text) when that is given.
    public struct JSONFieldCheck: Hashable, Sendable {
        public var field: String
        public var equals: String?

        public init(field: String, equals: String? = nil) {
            self.field = field
            self.equals = equals
        }
    }

    public struct TCPCheck: Hashable, Sendable {
        /// Nil: each host of the check's environment.
        public var address: String?
        public var port: Int
        /// Written once connected.
        public var send: String?
        /// Text the answer must contain.
        public var expect: String?

        public init(address: String? = nil, port: Int, send: String? = nil, expect: String? = nil) {
            self.address = address
            self.port = port
            self.send = send
            self.expect = expect
        }
    }

    public struct ScriptCheck: Hashable, Sendable {
        public var run: String

        public init(run: String) {
            self.run = run
        }
    }

    public struct LogCheck: Hashable, Sendable {
        public enum Expectation: Hashable, Sendable {
            /// The log must not contain this text.
            case absent(String)
            /// The log must contain this text.
            case present(String)
        }

        public var file: String
        public var expectation: Expectation

        public init(file: String, expectation: Expectation) {
            self.file = file
            self.expectation = expectation
        }
    }

    /// One request of a synthetic check. Cookies the site sets are kept for the steps after it;
    /// `${name}` in the path, a form value, a header value or the body is replaced by what an
    /// earlier step captured as `name`.
    public struct SyntheticStep: Hashable, Sendable {
        public typealias Method = HTTPMethod

        public var method: Method
        public var path: String
        /// Form fields sent URL-encoded, in file order.
        public var form: [FormField]
        public var headers: [Header]
        public var body: String?
        public var status: Int
        public var bodyContains: String?
        /// Values this step's response gives the steps after it.
        public var captures: [Capture]

        public init(
            method: Method = .GET,
            path: String,
            form: [FormField] = [],
            headers: [Header] = [],
            body: String? = nil,
            status: Int = 200,
            bodyContains: String? = nil,
            captures: [Capture] = []
        ) {
            self.method = method
            self.path = path
            self.form = form
            self.headers = headers
            self.body = body
            self.status = status
            self.bodyContains = bodyContains
            self.captures = captures
        }
    }

    /// A value taken from a response, by name.
    public struct Capture: Hashable, Sendable {
        public enum Source: Hashable, Sendable {
            /// The first group of a regular expression (ICU syntax) matched against the body.
            case regex(String)
            /// A field of a JSON body, by dotted path (`data.token`).
            case json(String)
            /// A response header.
            case header(String)
        }

        public var name: String
        public var source: Source

        public init(name: String, source: Source) {
            self.name = name
            self.source = source
        }
    }

    /// A window of time in which a check's failures are recorded but raise nothing: `start` on each
    /// of `weekdays` (every day when empty), for `durationMinutes`, in `timeZone`.
    public struct MaintenanceWindow: Hashable, Sendable {
        public enum Weekday: String, Hashable, Sendable, CaseIterable {
            case mon, tue, wed, thu, fri, sat, sun
        }

        /// Minutes after midnight: `"02:30"` is 150.
        public var startMinute: Int
        public var durationMinutes: Int
        public var weekdays: Set<Weekday>
        /// An IANA time zone identifier, like `Europe/Berlin`.
        public var timeZone: String

        public init(startMinute: Int, durationMinutes: Int, weekdays: Set<Weekday> = [], timeZone: String = "UTC") {
            self.startMinute = startMinute
            self.durationMinutes = durationMinutes
            self.weekdays = weekdays
            self.timeZone = timeZone
        }
    }

    public var checks: [Check]
    /// A check of an environment that turns red this long after a deploy there is a regression of
    /// that deploy (`regression_window_s`).
    public var regressionWindowSeconds: Int

    public static let defaultRegressionWindowSeconds = 900

    public init(checks: [Check], regressionWindowSeconds: Int = Self.defaultRegressionWindowSeconds) {
        self.checks = checks
        self.regressionWindowSeconds = regressionWindowSeconds
    }

    /// Reads and checks monitoring/checks.yaml; with a `config`, each `env` must be one of its
    /// environments. Never throws; reports every problem at once; `checks` is nil on any error.
    public static func parse(_ data: Data, path: String, config: ProjectConfig? = nil) -> (checks: MonitoringChecks?, diagnostics: [Diagnostic]) {
        MonitoringChecksReader.read(data, path: path, environments: config.map { Set($0.environments.map(\.name)) })
    }
}

/// `monitoring/checks.yaml` as one file of the control repository, checked against the
/// environments of the repository's devsys.yaml.
public enum MonitoringChecksFile {
    /// Where the file lives, relative to the repository root.
    public static let path = "monitoring/checks.yaml"

    /// Diagnostics for the file's content. Environments are checked against `config`'s
    /// devsys.yaml even when that has errors elsewhere; when devsys.yaml is missing or its
    /// `environments` cannot be read, they are not checked (that problem is reported for devsys.yaml).
    public static func validate(_ data: Data, config: SpecTreeValidator) -> [Diagnostic] {
        let result = MonitoringChecksReader.read(data, path: path, environments: config.environmentNames)
        return Diagnostic.sortedForReading(result.diagnostics)
    }
}
