import Foundation
import Git
import SSH
import Specs
import Synchronization

/// The transports to the hosts of devsys.yaml, kept open between deploys: an SSH host costs a
/// TCP connect, a handshake and a key exchange once, not per deploy (or per rollback).
///
/// A host whose settings change in devsys.yaml gets a new transport. Relative `local` roots and
/// `~/` in key paths are resolved here, against `baseFolder` and `$HOME`.
public final class HostConnections: Sendable {
    /// What relative `local` roots are relative to: the repository's work tree (or the bare
    /// repository's folder).
    public let baseFolder: String
    /// The open transports by host name, with the settings each was opened with.
    private let open = Mutex<[String: (host: ProjectConfig.Host, transport: any HostTransport)]>([:])

    public init(baseFolder: String) {
        self.baseFolder = baseFolder
    }

    /// Relative `local` roots resolve against the repository's work tree, or the bare repository's folder.
    public convenience init(repository: Repository) {
        self.init(baseFolder: (repository.workingDirectory ?? repository.gitDirectory).path)
    }

    /// The transport to `host`, opened (lazily: nothing connects until the first command) or reused.
    /// Throws `HostTransportError.incompleteHost` for an ssh host without address or user, or with
    /// one that breaks devsys.yaml's rules (`ProjectConfig.Host.addressProblem`, `userProblem`).
    public func transport(for host: ProjectConfig.Host) throws -> any HostTransport {
        try open.withLock { open in
            if let existing = open[host.name], existing.host == host { return existing.transport }
            (open[host.name]?.transport as? SSHTransport)?.close()
            let transport: any HostTransport
            switch host.transport {
            case .local:
                transport = LocalTransport(name: host.name)
            case .ssh:
                transport = SSHTransport(name: host.name, host: try sshHost(host))
            }
            open[host.name] = (host, transport)
            return transport
        }
    }

    /// The SSH settings of an ssh host, with `~/` expanded; the defaults are `~/.ssh/id_ed25519`
    /// and `~/.ssh/known_hosts`, as for OpenSSH.
    public func sshHost(_ host: ProjectConfig.Host) throws -> SSHHost {
        guard let address = host.address, let user = host.user else {
            throw HostTransportError.incompleteHost(host: host.name, reason: "an ssh host needs 'address' and 'user' in devsys.yaml")
        }
        // The rules devsys.yaml is validated with: a config that bypassed validation fails here, not in getaddrinfo.
        let problems = [
            ProjectConfig.Host.addressProblem(address).map { "'address' is \(address.quotedForMessage), which \($0)" },
            ProjectConfig.Host.userProblem(user).map { "'user' is \(user.quotedForMessage), which \($0)" },
        ]
        if let problem = problems.compactMap({ $0 }).first {
            throw HostTransportError.incompleteHost(host: host.name, reason: problem)
        }
        return SSHHost(
            address: address,
            port: host.port,
            user: user,
            identityFile: Self.expandHome(host.identity ?? "~/.ssh/id_ed25519"),
            knownHostsFile: Self.expandHome(host.knownHosts ?? "~/.ssh/known_hosts")
        )
    }

    /// The host's root folder: `local` roots relative to `baseFolder`; ssh roots as written.
    public func root(of host: ProjectConfig.Host) -> String {
        guard host.transport == .local else { return host.root }
        let root = Self.expandHome(host.root)
        if root.hasPrefix("/") { return root }
        return URL(fileURLWithPath: baseFolder).appendingPathComponent(root).standardizedFileURL.path
    }

    /// Closes every SSH connection.
    public func closeAll() {
        open.withLock { open in
            for (_, entry) in open { (entry.transport as? SSHTransport)?.close() }
            open = [:]
        }
    }

    static func expandHome(_ path: String) -> String {
        guard path.hasPrefix("~/") else { return path }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + path.dropFirst(1)
    }
}
