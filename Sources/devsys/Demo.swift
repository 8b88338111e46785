import Actions
import ArgumentParser
import ControlRepository
import Deploy
import DevsysResources
import Environments
import Foundation
import Git
import Hosts
import Pipeline
import Probes
import Runtime
import Store

extension Devsys {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the whole pipeline once on the embedded example, on this machine.",
            discussion: """
                Creates a control repository (devsys init --bare) in a new folder, then: the coding
                agent writes the example task's change on task/001-about-page, the testing agent
                stores its JUnit report as a note, the demo approves and merges the branch like a
                reviewer, and the deployment agent ships the merged app to the example's 'local'
                host (a folder under the repository), switches it atomically, verifies it over HTTP
                (php -S with devsys's router on the host's url) and tags the deploy.
                Nothing here needs SSH; docs/runbook.md shows the same with ssh hosts.

                  devsys demo                       in a new temp folder
                  devsys demo --dir ./try-devsys    somewhere of your choosing (must be new or empty)
                  devsys demo --serve               keep the site up afterwards (Ctrl-C stops it)
                """
        )

        @Option(help: ArgumentHelp("Where to create the demo (a new or empty folder). Default: a new temp folder.", valueName: "dir"))
        var dir: String?

        @Flag(help: "Keep serving the deployed site until interrupted.")
        var serve = false

        @Option(help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
        var timeout: Double = 600

        func run() async throws {
            LogFormat.text.bootstrap(level: .info)
            let folder =
                try dir.map { path in
                    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                    return URL(fileURLWithPath: path).standardizedFileURL
                } ?? makeTempFolder()
            let repositoryURL = folder.appendingPathComponent("blog.git")
            let deadline = Date().addingTimeInterval(timeout)
            step("devsys init --bare \(repositoryURL.path)")
            let control: ControlRepository
            do {
                control = try ControlRepository.initialize(
                    at: repositoryURL,
                    bare: true,
                    devsysBinary: currentExecutablePath(),
                    author: actingSignature()
                )
            } catch {
                throw CommandFailure("demo: \(error)")
            }
            let trunk = try control.trunkCommit()
            guard let config = try control.config(at: trunk.commit), let staging = config.environment(named: "staging"),
                let host = staging.hosts.first.flatMap(config.host(named:)), let url = host.url
            else { throw CommandFailure("demo: the example devsys.yaml has no staging environment with a host url") }
            let app = config.apps.first?.name ?? "blog"
            let hostRoot = HostConnections(repository: control.repository).root(of: host)

            step("php -S for host \(host.name) at \(url) (serving \(hostRoot)/\(app)/current)")
            let site = try PHPSite(url: url, appRoot: hostRoot + "/" + app)
            defer { if !serve { site.stop() } }

            let state = StateDirectory.inside(gitDirectory: control.repository.gitDirectory)
            let controller = try Controller(repositoryPath: control.repository.gitDirectory.path, state: state)
            step("devsys run --until-idle  (coding agent → task/001-about-page, testing agent → JUnit note)")
            guard try await controller.runUntilIdle(deadline: deadline).idle else {
                throw CommandFailure("demo: still busy after \(timeout) s")
            }
            let taskID = "001-about-page"
            guard let task = try controller.store.task(id: taskID), task.state == .review else {
                let task = try controller.store.task(id: taskID)
                throw CommandFailure("demo: \(taskID) is \(task?.state.rawValue ?? "missing") (\(task?.reason ?? "")); expected review")
            }

            step("review: approve and merge task/\(taskID) (devsys pr approve / pr merge)")
            let path = control.repository.gitDirectory.path
            let plane = try controller.controlPlane
            let reviewer = Principal(name: "demo-reviewer", role: .developer)
            try await plane.approve(taskID: task.id, by: reviewer)
            let merged = try await plane.merge(taskID: task.id, by: reviewer)
            print("merge: \(merged)")

            step("devsys run --until-idle  (auto_deploy: env/staging → the trunk; deploy to \(host.name), verify, tag)")
            guard try await controller.runUntilIdle(deadline: deadline).idle else {
                throw CommandFailure("demo: still busy after \(timeout) s")
            }
            let final = try controller.store.task(id: taskID)
            let refs = EnvironmentRefs(repository: try Repository.open(at: path), environment: "staging")
            print("task \(taskID): \(final?.state.rawValue ?? "missing")\(final?.reason.map { " (\($0))" } ?? "")")
            if let tag = try refs.tags().last {
                print(
                    "\n\(tag.name):\n"
                        + tag.message.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
                )
            }
            let about = HTTPProbe.get(url + "/about.php", timeout: .seconds(5))
            print("GET \(url)/about.php → \(about.status.map(String.init) ?? "no response")")
            print("\ndemo repository: \(path)")
            print("try: devsys revisions staging --repo \(path)    devsys tasks --repo \(path)")
            guard final?.state == .deployed else { throw CommandFailure("demo: the task did not reach 'deployed'") }
            if serve {
                print("serving \(url) — Ctrl-C stops")
                while true { try await Task.sleep(for: .seconds(3600)) }
            }
        }

        private func step(_ text: String) {
            print("\n== \(text)")
        }

        private func makeTempFolder() throws -> URL {
            let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
            let url = URL(fileURLWithPath: base).appendingPathComponent("devsys-demo-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }
    }
}

/// `php -S` with devsys's router (the host kit's php-router.php) serving `<root>/<app>/current`.
final class PHPSite {
    private let process = Process()

    init(url: String, appRoot: String) throws {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw CommandFailure("demo: host url '\(url)' needs a host and a port")
        }
        let php = ["/usr/bin/php", "/usr/local/bin/php"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let php else { throw CommandFailure("demo: php is not installed (apt-get install php-cli); the example host serves PHP") }
        process.executableURL = URL(fileURLWithPath: php)
        process.arguments = ["-S", "\(host):\(port)", DevsysResources.hostKit.appendingPathComponent("php-router.php").path]
        var environment = ProcessInfo.processInfo.environment
        environment["DEVSYS_APP_ROOT"] = appRoot
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while HTTPProbe.get(url + "/", timeout: .seconds(1)).status == nil {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw CommandFailure("demo: php -S did not start on \(host):\(port) (is the port in use?)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
