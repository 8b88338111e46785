import ArgumentParser
import ControlRepository
import Foundation
import Git
import Processes
import SSH
import Specs
import Store

extension Devsys {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check what devsys needs on this machine: the agent sandbox, cgroups, libraries, hosts.",
            discussion: """
                Reports whether agents can run in a sandbox here (bubblewrap, namespaces, the uid they
                run as), which cgroups hold their limits (v2, v1, or none: rlimits only), the libgit2,
                libssh2 and SQLite versions, and — inside a control repository — whether devsys.yaml
                asks for the sandbox and whether every host can be reached.

                  devsys doctor
                  devsys doctor --json
                  devsys doctor --no-hosts        skip connecting to the hosts

                Exits 1 when the repository's agents would be refused (agents.sandbox is true and no
                sandbox can be made) or a host fails its check.
                """
        )

        @OptionGroup var repository: RepositoryOptions

        @Flag(inversion: .prefixedNo, help: "Connect to every host of devsys.yaml.")
        var hosts = true

        @Flag(help: "Print the results as JSON.")
        var json = false

        struct Check: Encodable {
            var name: String
            var ok: Bool
            var detail: String
        }

        func run() throws {
            let sandbox = SandboxHost.current
            var checks = sandbox.report.map { Check(name: $0.0, ok: true, detail: $0.1) }
            checks[0].ok = sandbox.isAvailable
            checks.append(Check(name: "user namespaces", ok: true, detail: Self.userNamespaces()))
            checks += [
                Check(name: "libgit2", ok: true, detail: LibGit2Version.current),
                Check(name: "libssh2", ok: true, detail: LibSSH2Version.current),
                Check(name: "sqlite", ok: true, detail: Store.sqliteVersion()),
            ]
            do {
                let (config, control) = try loadConfig(repository)
                let wanted = config.agents.sandbox
                checks.append(
                    Check(
                        name: "agents.sandbox",
                        ok: !wanted || sandbox.isAvailable,
                        detail: wanted
                            ? (sandbox.isAvailable ? "true: agents run sandboxed" : "true, but no sandbox can be made here: agents are refused")
                            : "false: agents run as the controller's own user, unconfined"
                    )
                )
                if hosts {
                    checks += HostCheck.run(config.hosts, control: control).map { Check(name: "host \($0.host)", ok: $0.ok, detail: $0.message) }
                }
            } catch {
                // Outside a control repository the machine's checks still stand.
                checks.append(Check(name: "repository", ok: true, detail: "not checked: \(error)"))
            }
            if json {
                try printJSON(checks)
            } else {
                let width = checks.map(\.name.count).max() ?? 0
                for check in checks {
                    print("\(check.ok ? "ok  " : "FAIL") \(check.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(check.detail)")
                }
            }
            if checks.contains(where: { !$0.ok }) { throw ExitCode.failure }
        }

        /// "96365 allowed", from /proc/sys/user/max_user_namespaces.
        static func userNamespaces() -> String {
            guard let text = try? String(contentsOfFile: "/proc/sys/user/max_user_namespaces", encoding: .utf8) else { return "unknown" }
            let count = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return count == "0" ? "turned off (user.max_user_namespaces = 0)" : "\(count) allowed"
        }
    }
}
