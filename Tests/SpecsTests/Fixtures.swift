import Foundation

@testable import Specs

/// The examples of DESIGN §3, §3b and §5, as users write them.
enum Fixtures {
    static let taskYAML = """
        id: 001-about-page
        title: Add an About page
        kind: feature                  # feature | bugfix | chore | followup
        app: blog                      # an app in devsys.yaml
        story: As a reader I want an About page so that I know who writes the blog.
        acceptance:                    # at least one; each is checked by the testing or deploy agent
          - name: about page served
            http: { path: /about.php, status: 200, body_contains: About }
          - name: unit tests
            run: php tests/run.php
        resource_requirements: { timeout_s: 900, memory_mb: 1024, cpus: 1 }
        tags: [frontend]
        related_tasks: []              # ids of other tasks
        expected_artifacts: [app/about.php]   # paths the coding agent must produce
        retry_policy: { max_attempts: 3, backoff_s: 10, max_backoff_s: 600 }
        agent: { capabilities: [php] } # which coding agent may take it
        review: required               # required | auto  (auto: merge when tests pass)
        deploy: { env: staging }       # where a merged task goes first

        """

    static let devsysYAML = """
        trunk: main
        apps:
          blog:
            path: app                  # the tree deployed to hosts
            test: php tests/run.php    # run from the repository root by the testing agent
        environments:
          staging:  { hosts: [web1], auto_deploy: true, on_regression: followup, keep_revisions: 5 }
          production: { hosts: [web1, web2], approval: deployer, on_regression: rollback }
        hosts:
          web1: { transport: ssh, address: 127.0.0.1, port: 2222, user: deploy, root: /srv/devsys,
                  identity: ~/.ssh/devsys_ed25519, known_hosts: ~/.ssh/known_hosts, url: http://127.0.0.1:8080 }
          web2: { transport: ssh, address: 127.0.0.2, user: deploy, root: /srv/devsys, url: http://127.0.0.2:8080 }
          dev1: { transport: local, root: ./hosts/dev1, url: http://127.0.0.1:8081 }
        agents:
          coding:  { kind: script, timeout_s: 1800 }   # script | opencode | aider | command (+ command: [argv…])
          testing: { parallel: 2 }
        notifications:
          - { name: team, kind: webhook, url: http://127.0.0.1:9000/hook, secret_env: DEVSYS_WEBHOOK_SECRET,
              events: [deploy.failed, rollback, task.followup] }

        """

    static let checksYAML = """
        checks:
          - name: home
            env: staging                      # http/log checks run against every host of the env
            http: { path: /, status: 200, body_contains: Blog, max_ms: 500 }
            interval_s: 10
            timeout_s: 5
            failure_threshold: 3
            success_threshold: 2
            depends_on: [db]
            maintenance: [{ start: "02:00", duration_m: 30, weekdays: [sun], timezone: Europe/Berlin }]
          - { name: db, tcp: { address: 127.0.0.1, port: 5432 } }
          - { name: smoke, script: { run: ./scripts/smoke.sh } }
          - { name: php-errors, env: staging, log: { file: /var/log/php/error.log, absent: "PHP Fatal error" } }
          - name: login
            env: staging
            synthetic:
              - { method: POST, path: /login.php, form: { user: demo }, status: 302 }
              - { path: /dashboard.php, body_contains: Welcome }
        regression_window_s: 600

        """

    static let specMD = """
        # Feature Specification: About page

        **Feature Branch**: `001-about-page`
        **Status**: Draft

        ## User Scenarios & Testing *(mandatory)*

        ### User Story 1 - Read about the author (Priority: P1)

        A reader opens the About page from the menu.

        **Acceptance Scenarios**:

        1. **Given** the blog is online, **When** a reader opens /about.php, **Then** the page shows who writes the blog

        ## Requirements *(mandatory)*

        ### Functional Requirements

        - **FR-001**: System MUST serve an About page at /about.php
        - **FR-002**: The menu MUST link to the About page

        ## Success Criteria *(mandatory)*

        - **SC-001**: The About page answers in under 200 ms

        """

    static let planMD = """
        # Implementation Plan: About page

        ## Summary

        Add app/about.php and a menu link.

        ## Technical Context

        **Language/Version**: PHP 8.2
        **Testing**: php tests/run.php

        """

    static let tasksMD = """
        # Tasks: About page

        ## Format: `[ID] [P?] [Story] Description`

        - **[P]**: Can run in parallel
        - [P] tasks = different files, no dependencies

        ## Phase 1: Setup

        - [ ] T001 Create app/about.php
        - [x] T002 [P] Add the menu link in app/menu.php
        - [X] T003 [P] [US1] Test the page in tests/about_test.php
        - [ ] T004 [US1] Write the copy

        """

    static func data(_ text: String) -> Data { Data(text.utf8) }

    /// The example spec with `line` (1-based) replaced.
    static func taskYAML(replacingLine line: Int, with replacement: String) -> String {
        var lines = taskYAML.components(separatedBy: "\n")
        lines[line - 1] = replacement
        return lines.joined(separator: "\n")
    }

    static var validator: SpecTreeValidator {
        SpecTreeValidator(config: ("devsys.yaml", data(devsysYAML)))
    }

    /// The script the `script` coding agent (devsysYAML's) runs in each spec folder.
    static let agentScript = "cat > app/about.php <<'PHP'\n<h1>About</h1>\nPHP\n"

    /// A spec folder with `files`, and an agent.sh unless `agentScript` is false.
    static func folder(_ name: String, _ files: [String: String], agentScript: Bool = true) -> SpecFolder {
        var files = files
        if agentScript, files["agent.sh"] == nil { files["agent.sh"] = Fixtures.agentScript }
        return SpecFolder(path: "specs/\(name)", files: files.mapValues { data($0) })
    }

    /// A valid spec for the folder `id`.
    static func spec(id: String, extra: String = "") -> String {
        """
        id: \(id)
        title: Task \(id)
        kind: chore
        app: blog
        acceptance:
          - name: tests
            run: php tests/run.php
        \(extra)
        """
    }
}

extension Array where Element == Diagnostic {
    var errors: [Diagnostic] { filter { $0.severity == .error } }

    /// "line:column: message" of each error, for readable expectations.
    var summary: [String] { map { "\($0.line):\($0.column): \($0.message)" } }

    func first(containing text: String) -> Diagnostic? { first { $0.message.contains(text) } }
}
