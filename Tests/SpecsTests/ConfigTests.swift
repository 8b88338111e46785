import Foundation
import Testing

@testable import Specs

@Suite("devsys.yaml")
struct ProjectConfigTests {
    func parse(_ text: String) -> (config: ProjectConfig?, diagnostics: [Diagnostic]) {
        ProjectConfig.parse(Fixtures.data(text), path: "devsys.yaml")
    }

    @Test("the example from DESIGN §3b reads back its values and defaults")
    func designExample() throws {
        let (config, diagnostics) = parse(Fixtures.devsysYAML)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let c = try #require(config)
        #expect(c.trunk == "main")
        #expect(c.apps == [.init(name: "blog", path: "app", test: "php tests/run.php")])
        #expect(c.environments.map(\.name) == ["staging", "production"])
        #expect(
            c.environment(named: "staging") == .init(name: "staging", hosts: ["web1"], autoDeploy: true, onRegression: .followup, keepRevisions: 5)
        )
        #expect(
            c.environment(named: "production")
                == .init(
                    name: "production",
                    hosts: ["web1", "web2"],
                    autoDeploy: false,
                    onRegression: .rollback,
                    keepRevisions: 5,
                    approval: .deployer
                )
        )
        #expect(
            c.host(named: "web1")
                == .init(
                    name: "web1",
                    transport: .ssh,
                    address: "127.0.0.1",
                    port: 2222,
                    user: "deploy",
                    root: "/srv/devsys",
                    identity: "~/.ssh/devsys_ed25519",
                    knownHosts: "~/.ssh/known_hosts",
                    url: "http://127.0.0.1:8080"
                )
        )
        #expect(c.host(named: "dev1")?.transport == .local && c.host(named: "dev1")?.root == "./hosts/dev1")
        #expect(c.agents.coding == .init(kind: .script, command: nil, timeoutSeconds: 1800, protected: []))
        #expect(c.agents.coding.protectedPaths == ["specs/", "monitoring/", "hooks/", "devsys.yaml", ".git*"])
        #expect(c.agents.testing.parallel == 2)
        #expect(
            c.notifications == [
                .init(
                    name: "team",
                    kind: .webhook,
                    url: "http://127.0.0.1:9000/hook",
                    secretEnv: "DEVSYS_WEBHOOK_SECRET",
                    events: ["deploy.failed", "rollback", "task.followup"]
                )
            ]
        )
    }

    @Test("a minimal config takes the defaults")
    func minimal() throws {
        let c = try #require(parse("apps:\n  site: { path: . }\n").config)
        #expect(c.trunk == "main" && c.environments.isEmpty && c.hosts.isEmpty && c.notifications.isEmpty)
        #expect(c.agents == .init())
    }

    @Test("hosts that do not exist, incomplete ssh hosts, unsafe app paths, inline secrets")
    func problems() {
        let (config, diagnostics) = parse(
            """
            apps:
              blog: { path: ../outside }
              shop: { path: /srv/shop }
            environments:
              staging: { hosts: [web1, wbe2], on_regression: revert }
            hosts:
              web1: { address: 10.0.0.1, root: srv }
              wbe1: { transport: local, root: ./h, password: hunter2 }
            notifications:
              - { name: team, kind: webhook, url: http://x/hook, secret: abc123 }
            agents:
              coding: { kind: command }
            """
        )
        #expect(config == nil)
        #expect(
            diagnostics.summary == [
                "2:17: 'apps.blog.path' '../outside' contains '..'; it must stay inside the repository",
                "3:17: 'apps.shop.path' '/srv/shop' is absolute; write it relative to the repository root",
                "5:28: environment 'staging' uses host 'wbe2', which is not under 'hosts'; did you mean 'wbe1'?",
                "5:50: 'environments.staging.on_regression' is 'revert'; it must be one of followup, rollback, none",
                "7:9: missing required key 'user' in hosts.web1; an ssh host needs 'address', 'user' and 'root'",
                "7:36: 'hosts.web1.root' is 'srv'; on an ssh host it must be an absolute path, like '/srv/devsys'",
                "8:40: devsys logs in to hosts with SSH keys only; name the key file with 'identity:' (never the key or a password itself)",
                "10:54: secrets are never written in devsys.yaml; put the secret in an environment variable and name it with 'secret_env:'",
                "12:19: 'kind: command' needs 'command', the program and its arguments as a list",
            ]
        )
    }

    @Test("unknown keys get a did-you-mean, and a missing apps section is reported")
    func unknownKeys() {
        let (_, diagnostics) = parse("trunk: main\nenvironmnets: {}\n")
        #expect(
            diagnostics.summary == [
                "1:1: missing required key 'apps'; name at least one app and the folder it lives in",
                "2:1: unknown key 'environmnets'; did you mean 'environments'?",
            ]
        )
    }

    @Test("the sandbox keys: network, env names, size limits, processes, writable folders, sandbox on by default")
    func sandboxKeys() throws {
        let (config, diagnostics) = parse(
            """
            apps: { blog: { path: app } }
            agents:
              coding: { kind: script, network: none, env: [OPENAI_API_KEY], max_change_mb: 10, max_file_mb: 2, max_processes: 64, writable: [/var/cache/agents] }
              testing: { network: host, env: [CI], max_processes: 32 }

            """
        )
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let agents = try #require(config?.agents)
        #expect(agents.sandbox)
        #expect(agents.coding.network == .none && agents.coding.environment == ["OPENAI_API_KEY"])
        #expect(agents.coding.maxChangeMB == 10 && agents.coding.maxFileMB == 2 && agents.coding.maxProcesses == 64)
        #expect(agents.coding.writable == ["/var/cache/agents"])
        #expect(agents.testing.network == .host && agents.testing.environment == ["CI"] && agents.testing.maxProcesses == 32)
        #expect(ProjectConfig.Agents().coding.network == .host && ProjectConfig.Agents().testing.network == .none, "the defaults")

        let (_, mistakes) = parse(
            """
            apps: { blog: { path: app } }
            agents:
              coding: { network: internet, env: ["KEY=abc"], writable: [cache] }
              sandbox: maybe

            """
        )
        #expect(
            mistakes.summary == [
                "3:22: 'agents.coding.network' is 'internet'; it must be one of none, host",
                "3:38: 'KEY=abc' is not an environment variable name (letters, digits and _, not starting with a digit); give the name only, the value comes from the controller's environment",
                "3:61: 'cache' must be an absolute folder other than / (like /var/cache/devsys-agents), without '.' or '..'",
                "4:12: 'agents.sandbox' must be true or false, found text 'maybe'",
            ]
        )
    }

    @Test("secret_env must name a variable, not hold the secret")
    func secretEnv() {
        let (_, diagnostics) = parse(
            "apps: { blog: { path: app } }\nnotifications:\n  - { name: t, kind: slack, url: 'https://hooks.example/x', secret_env: 's3cr3t!' }\n"
        )
        #expect(
            diagnostics.summary == [
                "3:73: 'notifications[0].secret_env' must be the name of an environment variable (like DEVSYS_WEBHOOK_SECRET), not the secret itself"
            ]
        )
    }

    @Test("notifications subscribe to kinds of events the controller writes, with a did-you-mean")
    func notificationEvents() throws {
        let (config, diagnostics) = parse(
            "apps: { blog: { path: app } }\nnotifications:\n  - { name: t, kind: webhook, url: 'http://127.0.0.1:9/h', events: [job.dead, deploy.faild] }\n"
        )
        #expect(config == nil)
        let problem = try #require(diagnostics.summary.first)
        #expect(problem.hasPrefix("3:79: 'notifications[0].events[1]' is 'deploy.faild'; it must be one of task.created, "), "\(problem)")
        #expect(problem.hasSuffix("did you mean 'deploy.failed'?"), "\(problem)")
        #expect(diagnostics.count == 1)
    }

    @Test("every rule the deployer enforces on a host is an error at its line first")
    func deployerRulesOnHosts() {
        let (config, diagnostics) = parse(
            """
            apps:
              blog: { path: app }
            hosts:
              web1: { address: 10.0.0.1, user: deploy, root: "/srv/devsys\\n" }
              web2: { address: "10.0.0.2:2222", user: "deploy user", root: /srv/../etc }
              web3: { address: "deploy@web3", user: "-x", root: /srv/devsys, identity: "~deploy/.ssh/key", known_hosts: "a\\tb" }
              web4: { address: "[::1]", user: "deploy:pw", root: /srv/devsys }
              dev1: { transport: local, root: "~other/hosts" }
              dev2: { transport: local, root: ./hosts/../../x }
              web5: { address: "web1,web2", user: deploy, root: /srv/devsys }
            """
        )
        #expect(config == nil)
        #expect(
            diagnostics.summary == [
                "4:50: 'hosts.web1.root' is '/srv/devsys\\n', which contains the control character \\n; write the folder on one line, without control characters",
                "5:20: 'hosts.web2.address' is '10.0.0.2:2222', which holds a port; put the port in 'port' and only the host name here",
                "5:43: 'hosts.web2.user' is 'deploy user', which contains a space; give one account name, like 'deploy'",
                "5:64: 'hosts.web2.root' is '/srv/../etc', which has a '..' part; write the folder without '..', like '/srv/devsys'",
                "6:20: 'hosts.web3.address' is 'deploy@web3', which holds a user; put the account in 'user' and only the host name or IP address here",
                "6:41: 'hosts.web3.user' is '-x', which starts with '-'; give an account name, like 'deploy'",
                "6:76: 'hosts.web3.identity' is '~deploy/.ssh/key', which starts with '~deploy/', but devsys expands only '~/'; write '~/…' or an absolute path",
                "6:109: 'hosts.web3.known_hosts' is 'a\\tb', which contains the control character \\t; give the path of the file, like '~/.ssh/devsys_ed25519'",
                "7:20: 'hosts.web4.address' is '[::1]', which has brackets; write an IPv6 address without them, like '::1'",
                "7:35: 'hosts.web4.user' is 'deploy:pw', which contains ':'; give only the account name (devsys signs in with a key file, never a password)",
                "8:35: 'hosts.dev1.root' is '~other/hosts', which starts with '~other/', but devsys expands only '~/'; write '~/…' or an absolute path",
                "9:35: 'hosts.dev2.root' is './hosts/../../x', which has a '..' part; write the folder without '..', like '/srv/devsys'",
                "10:20: 'hosts.web5.address' is 'web1,web2', which contains ','; give one host name or IP address (letters, digits, '.', '-', '_', ':', '%')",
            ]
        )
    }

    @Test("a host's address may be a name, an IPv4 or an IPv6 address; a local root may be relative")
    func acceptedHostSettings() {
        let (config, diagnostics) = parse(
            """
            apps: { blog: { path: app } }
            hosts:
              a: { address: web1.example.org, user: deploy, root: /srv/devsys }
              b: { address: "::1", user: www-data, root: /srv/devsys/, identity: /etc/devsys/key, known_hosts: ~/.ssh/known_hosts }
              c: { transport: local, root: ./hosts/dev1 }
              d: { transport: local, root: ~/devsys-hosts }
            """
        )
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(config?.hosts.map(\.name) == ["a", "b", "c", "d"])
    }

    @Test("a UTF-8 byte order mark at the start is skipped, as PyYAML does; lines and columns stay right")
    func byteOrderMark() {
        let (config, diagnostics) = parse("\u{FEFF}" + Fixtures.devsysYAML)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(config?.apps.map(\.name) == ["blog"])
        let (_, typo) = parse("\u{FEFF}apps: { blog: { path: app } }\ntrunc: main\n")
        #expect(typo.summary == ["2:1: unknown key 'trunc'; did you mean 'trunk'?"])
        let (_, first) = parse("\u{FEFF}aps: { blog: { path: app } }\n")
        #expect(first.summary.contains("1:1: unknown key 'aps'; did you mean 'apps'?"), "\(first.summary)")
    }
}

extension ProjectConfigTests {
    @Test("shared, writable, build and release read back per app; php_error_log per host")
    func releaseKeys() throws {
        let (config, diagnostics) = parse(
            """
            apps:
              blog:
                path: app
                shared: [storage/, .env]
                writable: [storage/]
                build: [composer install --no-dev -o]
                release: { before_switch: [php warm.php], after_switch: [php reset-opcache.php], once: [php migrate.php] }
            hosts:
              web1: { address: 127.0.0.1, user: deploy, root: /srv/devsys, php_error_log: /var/log/php/error.log }
            """
        )
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let c = try #require(config)
        let app = try #require(c.app(named: "blog"))
        #expect(app.shared == ["storage/", ".env"])
        #expect(app.writable == ["storage/"])
        #expect(app.build == ["composer install --no-dev -o"])
        #expect(app.release == .init(beforeSwitch: ["php warm.php"], afterSwitch: ["php reset-opcache.php"], once: ["php migrate.php"]))
        #expect(c.host(named: "web1")?.phpErrorLog == "/var/log/php/error.log")
        // Without them: nothing shared, nothing run.
        let plain = try #require(parse("apps:\n  site: { path: . }\n").config?.apps.first)
        #expect(plain.shared.isEmpty && plain.writable.isEmpty && plain.build.isEmpty && plain.release.isEmpty)
    }

    @Test("shared paths outside the app, twice or nested, a misspelt release key, a relative error log")
    func releaseKeyProblems() {
        let (config, diagnostics) = parse(
            """
            apps:
              blog:
                path: app
                shared: [../up, storage/, storage/logs/, .env, .env, REVISION]
                writable: [/var/www]
                build: composer install
                release: { before: [x], once: [php migrate.php] }
            hosts:
              web1: { address: 127.0.0.1, user: deploy, root: /srv/devsys, php_error_log: logs/php.log }
            """
        )
        #expect(config == nil)
        #expect(
            diagnostics.summary == [
                "4:14: shared path '../up' contains '..'; it must stay inside the app's folder",
                "4:31: shared path 'storage/logs/' and 'storage' overlap (one is inside the other); list only the outer one",
                "4:52: shared path '.env' is listed twice (first at line 4); keep one",
                "4:58: shared path 'REVISION' cannot be used: devsys writes REVISION itself and '.' is the whole revision",
                "5:16: writable path '/var/www' is absolute; write it relative to the app's folder, like 'storage/'",
                "6:12: 'apps.blog.build' must be a list, found text 'composer install'",
                "7:16: unknown key 'before' in apps.blog.release; the keys here are: before_switch, after_switch, once",
                "9:79: 'hosts.web1.php_error_log' is 'logs/php.log'; on an ssh host it must be an absolute path, like '/var/log/php/error.log'",
            ]
        )
    }
}

@Suite("monitoring/checks.yaml")
struct MonitoringChecksTests {
    let config = ProjectConfig.parse(Fixtures.data(Fixtures.devsysYAML), path: "devsys.yaml").config

    func parse(_ text: String) -> (checks: MonitoringChecks?, diagnostics: [Diagnostic]) {
        MonitoringChecks.parse(Fixtures.data(text), path: "monitoring/checks.yaml", config: config)
    }

    @Test("a UTF-8 byte order mark at the start is skipped")
    func byteOrderMark() {
        let (checks, diagnostics) = parse("\u{FEFF}" + Fixtures.checksYAML)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(checks?.checks.count == 5)
    }

    @Test("the example from DESIGN §5 reads back each probe")
    func designExample() throws {
        let (checks, diagnostics) = parse(Fixtures.checksYAML)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let all = try #require(checks).checks
        #expect(all.map(\.name) == ["home", "db", "smoke", "php-errors", "login"])
        #expect(
            all[0]
                == .init(
                    name: "home",
                    env: "staging",
                    probe: .http(.init(path: "/", status: 200, bodyContains: "Blog", maxMilliseconds: 500)),
                    intervalSeconds: 10,
                    timeoutSeconds: 5,
                    failureThreshold: 3,
                    successThreshold: 2,
                    dependsOn: ["db"],
                    maintenance: [.init(startMinute: 120, durationMinutes: 30, weekdays: [.sun], timeZone: "Europe/Berlin")]
                )
        )
        #expect(checks?.regressionWindowSeconds == 600)
        #expect(MonitoringChecks(checks: []).regressionWindowSeconds == 900, "the default")
        #expect(all[1] == .init(name: "db", probe: .tcp(.init(address: "127.0.0.1", port: 5432))))
        #expect(all[2].probe == .script(.init(run: "./scripts/smoke.sh")))
        #expect(all[3].probe == .log(.init(file: "/var/log/php/error.log", expectation: .absent("PHP Fatal error"))))
        #expect(
            all[4].probe
                == .synthetic([
                    .init(method: .POST, path: "/login.php", form: [.init(name: "user", value: "demo")], status: 302),
                    .init(method: .GET, path: "/dashboard.php", bodyContains: "Welcome"),
                ])
        )
    }

    @Test("two probes, no probe, unknown environment, missing env, duplicate names, bad regex")
    func problems() {
        let (checks, diagnostics) = parse(
            """
            checks:
              - { name: a, env: staging, http: { path: / }, tcp: { port: 80 } }
              - { name: b }
              - { name: c, env: prod, script: { run: x } }
              - { name: d, http: { path: / } }
              - { name: c, env: staging, http: { path: /, body_regex: "([a-z" } }
              - { name: e, tcp: { port: 5432 }, intervl_s: 5 }
            """
        )
        #expect(checks == nil)
        #expect(
            diagnostics.summary == [
                "2:49: check 'a' has http and tcp; give each check exactly one probe (split it into several checks)",
                "3:5: check 'b' has no probe; give it exactly one of http, tcp, script, log, synthetic",
                "4:21: environment 'prod' is not in devsys.yaml",
                "5:5: check 'd' needs 'env': http checks run against every host of an environment",
                "6:13: check name 'c' is used twice (first at line 4); give each check its own name",
                "6:59: 'checks[4].http.body_regex' is not a valid regular expression; check its brackets and escapes",
                "7:21: missing required key 'address' in checks[5].tcp; without 'env', say which machine to connect to",
                "7:37: unknown key 'intervl_s' in checks[5]; did you mean 'interval_s'?",
            ]
        )
    }

    @Test("depends_on names other checks of the file, without a circle; maintenance windows read back or say what is wrong")
    func dependenciesAndMaintenance() {
        let (checks, diagnostics) = parse(
            """
            regression_window_s: 0
            checks:
              - { name: a, tcp: { address: db, port: 5432 }, depends_on: [a, nope, c] }
              - { name: b, tcp: { address: db, port: 5432 }, depends_on: [dbb] }
              - { name: c, tcp: { address: db, port: 5432 }, depends_on: [d] }
              - { name: d, tcp: { address: db, port: 5432 }, depends_on: [a] }
              - name: e
                tcp: { address: db, port: 5432 }
                maintenance:
                  - { start: "2:30", duration_m: 30 }
                  - { start: 02:30, duration_m: 0, weekdays: [sunday], timezone: Mars/Olympus }
                  - { duration_m: 10, every: day }
            """
        )
        #expect(checks == nil)
        #expect(
            diagnostics.summary == [
                "1:22: 'regression_window_s' is 0; it must be from 1 to 604800",
                "3:63: check 'a' depends on itself; name other checks in 'depends_on'",
                "3:66: check 'a' depends on 'nope', which is not a check in this file",
                "3:72: checks depend on each other in a circle: a → c → d → a; remove one of these 'depends_on' entries",
                "4:63: check 'b' depends on 'dbb', which is not a check in this file",
                "10:18: 'checks[4].maintenance[0].start' is '2:30'; give the time of day as \"HH:MM\", like \"02:30\"",
                "11:37: 'checks[4].maintenance[1].duration_m' is 0; it must be from 1 to 10080",
                "11:51: 'checks[4].maintenance[1].weekdays[0]' is 'sunday'; it must be one of mon, tue, wed, thu, fri, sat, sun",
                "11:70: 'checks[4].maintenance[1].timezone' is 'Mars/Olympus', which is not a time zone; give an IANA name like 'Europe/Berlin' or 'UTC'",
                "12:9: missing required key 'start' in checks[4].maintenance[2]",
                "12:27: unknown key 'every' in checks[4].maintenance[2]; the keys here are: start, duration_m, weekdays, timezone",
            ],
            "\(diagnostics.summary.joined(separator: "\n"))"
        )
    }

    @Test("http checks send a method, headers and a body, to a path on every host or to a full URL; tcp checks send and expect")
    func requests() throws {
        let (checks, diagnostics) = parse(
            """
            checks:
              - name: api
                env: staging
                http:
                  path: /api/posts
                  method: POST
                  headers: { Content-Type: application/json, X-Token: abc }
                  body: '{"title": "probe"}'
                  status: 201
                  json: { field: data.id }
              - { name: site, http: { url: "https://blog.example.com/", cert_min_days: 14 } }
              - { name: smtp, tcp: { address: mail, port: 25, send: "EHLO devsys\\r\\n", expect: "250" } }
            """
        )
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let all = try #require(checks).checks
        #expect(
            all[0].probe
                == .http(
                    .init(
                        path: "/api/posts",
                        method: .POST,
                        headers: [.init(name: "Content-Type", value: "application/json"), .init(name: "X-Token", value: "abc")],
                        body: #"{"title": "probe"}"#,
                        status: 201,
                        json: .init(field: "data.id")
                    )
                )
        )
        #expect(all[1].env == nil && all[1].probe == .http(.init(url: "https://blog.example.com/", certMinDays: 14)))
        #expect(all[2].probe == .tcp(.init(address: "mail", port: 25, send: "EHLO devsys\r\n", expect: "250")))
        #expect(all[2].successThreshold == 2 && all[2].failureThreshold == 3, "the defaults")

        let (_, mistakes) = parse(
            """
            checks:
              - { name: a, env: staging, http: { status: 200 } }
              - { name: b, env: staging, http: { path: /, url: "http://x/" } }
              - { name: c, http: { url: "blog.example.com", method: FETCH } }
              - { name: d, http: { url: "http://x/", cert_min_days: 7, headers: [a] } }
            """
        )
        #expect(
            mistakes.summary == [
                "2:36: 'checks[0].http' needs 'path' (asked of each host of the env) or 'url' (a full URL)",
                "3:47: 'checks[1].http' has both 'path' and 'url'; give one of them",
                "4:29: 'checks[2].http.url' is 'blog.example.com'; give a full http or https URL, like 'https://example.com/health'",
                "4:57: 'checks[2].http.method' is 'FETCH'; it must be one of GET, POST, PUT, PATCH, DELETE, HEAD",
                "5:57: 'checks[3].http.cert_min_days' checks a TLS certificate, but 'http://x/' is not https",
                "5:69: 'checks[3].http.headers' must be a mapping of header names to values, found a list",
            ],
            "\(mistakes.summary.joined(separator: "\n"))"
        )
    }

    @Test("a synthetic check captures values from one response and uses them in the next steps")
    func syntheticCaptures() throws {
        let (checks, diagnostics) = parse(
            #"""
            checks:
              - name: login
                env: staging
                synthetic:
                  - { path: /login.php, capture: { csrf: { regex: 'name="csrf" value="([^"]+)"' } } }
                  - method: POST
                    path: /login.php
                    form: { user: demo, csrf: "${csrf}" }
                    status: 302
                    capture: { session: { header: Set-Cookie }, next: { json: data.next } }
                  - { path: "/dashboard.php?from=${next}", headers: { X-Session: "${session}" }, body_contains: Welcome }
            """#
        )
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        guard case .synthetic(let steps) = try #require(checks).checks[0].probe else {
            Issue.record("not a synthetic check")
            return
        }
        #expect(steps[0].captures == [.init(name: "csrf", source: .regex(#"name="csrf" value="([^"]+)""#))])
        #expect(steps[1].form == [.init(name: "user", value: "demo"), .init(name: "csrf", value: "${csrf}")])
        #expect(steps[1].captures.map(\.name) == ["session", "next"])
        #expect(steps[2].headers == [.init(name: "X-Session", value: "${session}")])

        let (_, mistakes) = parse(
            """
            checks:
              - name: login
                env: staging
                synthetic:
                  - { path: "/a?t=${token}", capture: { token: { regex: "token=\\\\w+" }, 2fa: { json: a }, x: { json: a, header: b } } }
                  - { path: /b, form: { t: "${tokn}" } }
            """
        )
        #expect(
            mistakes.summary == [
                "5:9: step 1 uses '${token}', which no step before it captures; add 'capture: { token: { regex: … } }' to an earlier step",
                #"5:61: capture 'token': 'token=\w+' must be a valid regular expression with a group, like 'token=(\w+)'; its first group is the value"#,
                "5:77: '2fa' cannot name a captured value: use letters, digits and '_', like 'csrf_token'",
                "5:95: capture 'x' needs exactly one of regex, json, header",
                "6:9: step 2 uses '${tokn}', which no step before it captures; add 'capture: { tokn: { regex: … } }' to an earlier step",
            ],
            "\(mistakes.summary.joined(separator: "\n"))"
        )
    }

    @Test("MonitoringChecksFile checks environments against the validator's devsys.yaml")
    func checksFile() {
        let text = Fixtures.checksYAML.replacingOccurrences(of: "env: staging                      #", with: "env: stagng #")
        let diagnostics = MonitoringChecksFile.validate(Fixtures.data(text), config: Fixtures.validator)
        #expect(
            diagnostics.map(\.description) == [
                "monitoring/checks.yaml:3:10: error: environment 'stagng' is not in devsys.yaml; did you mean 'staging'?"
            ]
        )
    }
}
