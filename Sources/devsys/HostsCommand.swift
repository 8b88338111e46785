import ArgumentParser
import ControlRepository
import Deploy
import Foundation
import Hosts
import SSH
import Specs

extension Devsys {
    struct Hosts: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the deploy hosts of devsys.yaml and record their SSH host keys.",
            subcommands: [Trust.self, Check.self]
        )

        struct Trust: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show an ssh host's key and add it to the host's known_hosts file.",
                discussion: """
                        devsys never connects to a host whose key is not in known_hosts (hosts.NAME.known_hosts,
                        default ~/.ssh/known_hosts). This connects once without authenticating, shows the
                        key's SHA256 fingerprint — compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`
                        on the host — and records it after you confirm (or at once with --yes).

                          devsys hosts trust web1
                          devsys hosts trust web1 --yes     in a provisioning script

                    A host whose key changed is refused: remove the old line first with
                    ssh-keygen -R '[ADDRESS]:PORT' -f KNOWN_HOSTS, after finding out why it changed.
                    """
            )

            @OptionGroup var repository: RepositoryOptions

            @Argument(help: ArgumentHelp("The host's name under 'hosts' in devsys.yaml.", valueName: "host"))
            var host: String

            @Flag(help: "Record the key without asking.")
            var yes = false

            func run() throws {
                let (config, control) = try loadConfig(repository)
                guard let entry = config.host(named: host) else {
                    throw CommandFailure("no host '\(host)' in devsys.yaml (known: \(config.hosts.map(\.name).joined(separator: ", ")))")
                }
                guard entry.transport == .ssh else {
                    throw CommandFailure("\(host) is a '\(entry.transport.rawValue)' host: it has no SSH key to trust")
                }
                let ssh = try HostConnections(repository: control.repository).sshHost(entry)
                let scanned: (type: String, key: Data, fingerprint: String)
                do {
                    scanned = try SSHSession.scanHostKey(host: ssh)
                } catch {
                    throw CommandFailure("\(host): \(error)")
                }
                let encoded = scanned.key.base64EncodedString()
                let known = (try? String(contentsOfFile: ssh.knownHostsFile, encoding: .utf8)) ?? ""
                let lines = known.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
                let listed = lines.filter { $0.count >= 3 && $0[0].split(separator: ",").map(String.init).contains(ssh.knownHostsName) }
                if listed.contains(where: { $0[2] == encoded }) {
                    print("\(host) (\(ssh.knownHostsName)) is already trusted in \(ssh.knownHostsFile): \(scanned.type) \(scanned.fingerprint)")
                    return
                }
                if let other = listed.first(where: { $0[1] == scanned.type }) {
                    throw CommandFailure(
                        "\(host): \(ssh.knownHostsFile) lists another \(other[1]) key for \(ssh.knownHostsName); the host now shows \(scanned.fingerprint). "
                            + "If the change is expected, remove the old key with: ssh-keygen -R '\(ssh.knownHostsName)' -f \(ssh.knownHostsFile)"
                    )
                }
                print("\(host) (\(ssh.endpoint)) presents a \(scanned.type) key:")
                print("  \(scanned.fingerprint)")
                if !yes {
                    guard isatty(STDIN_FILENO) == 1 else { throw CommandFailure("not recording it: confirm with --yes (no terminal to ask on)") }
                    print("Trust it and add it to \(ssh.knownHostsFile)? [y/N] ", terminator: "")
                    guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                        throw CommandFailure("not recorded")
                    }
                }
                do {
                    try SSHSession.trust(host: ssh, key: scanned.key, type: scanned.type, knownHostsFile: ssh.knownHostsFile)
                } catch {
                    throw CommandFailure("cannot write \(ssh.knownHostsFile): \(error)")
                }
                print("recorded in \(ssh.knownHostsFile)")
            }
        }

        struct Check: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Connect to each host (or the named ones) and report what is wrong.",
                discussion: """
                    For ssh hosts: the connection, the host key against known_hosts, the key login, and
                    that the host's root can be written. For local hosts: the root folder.

                      devsys hosts check
                      devsys hosts check web1 web2 --json
                    """
            )

            @OptionGroup var repository: RepositoryOptions

            @Argument(help: ArgumentHelp("Host names; default: every host in devsys.yaml.", valueName: "host"))
            var hosts: [String] = []

            @Flag(help: "Print the results as JSON.")
            var json = false

            func run() throws {
                let (config, control) = try loadConfig(repository)
                let unknown = hosts.filter { config.host(named: $0) == nil }
                guard unknown.isEmpty else { throw CommandFailure("no host \(unknown.joined(separator: ", ")) in devsys.yaml") }
                let chosen = hosts.isEmpty ? config.hosts : config.hosts.filter { hosts.contains($0.name) }
                let results = HostCheck.run(chosen, control: control)
                if json {
                    try printJSON(results)
                } else {
                    for result in results { print("\(result.ok ? "ok  " : "FAIL") \(result.host): \(result.message)") }
                }
                if results.contains(where: { !$0.ok }) { throw ExitCode.failure }
            }
        }
    }
}

/// Whether devsys can reach and write each host: for ssh hosts the connection, the host key, the
/// key login and the root; for local hosts the root folder. `hosts check` and `doctor` say it.
struct HostCheck: Encodable {
    var host: String
    var ok: Bool
    var message: String

    static func run(_ hosts: [ProjectConfig.Host], control: ControlRepository) -> [HostCheck] {
        let connections = HostConnections(repository: control.repository)
        defer { connections.closeAll() }
        return hosts.map { host in
            let root = connections.root(of: host)
            do {
                let transport = try connections.transport(for: host)
                let check = try transport.run(
                    "mkdir -p \(ShellWord.quote(root)) && test -w \(ShellWord.quote(root)) && echo ok",
                    timeout: .seconds(30)
                )
                return check.succeeded
                    ? HostCheck(host: host.name, ok: true, message: "\(root) is writable")
                    : HostCheck(host: host.name, ok: false, message: "\(root) is not writable: \(check.stderrText)")
            } catch {
                return HostCheck(host: host.name, ok: false, message: "\(error)")
            }
        }
    }
}

/// devsys.yaml on the trunk, or a failure that says how to fix it.
func loadConfig(_ options: RepositoryOptions) throws -> (ProjectConfig, ControlRepository) {
    let control = try options.open()
    do {
        let trunk = try control.trunkCommit()
        guard let config = try control.config(at: trunk.commit) else {
            throw CommandFailure("devsys.yaml on the trunk (\(shortHex(trunk.commit.hex))) is missing or invalid; run 'devsys validate'")
        }
        return (config, control)
    } catch let error as CommandFailure {
        throw error
    } catch {
        throw CommandFailure("\(error)")
    }
}
