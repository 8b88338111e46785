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
                    successThreshold: 2
                )
        )
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
