import Foundation
import Git
import Hosts
import Specs

/// Deploys one app to one host through a `HostTransport`, in the remote layout of DESIGN §5:
///
/// ```
/// <root>/<app>/revisions/<NNNN>-<sha12>/   a full tree, with REVISION holding the commit id
/// <root>/<app>/current -> revisions/<...>  switched by rename(2) of a fresh symlink
/// <root>/<app>/.devsys/lock  .devsys/log   deploy lock; one JSON line per action
/// ```
///
/// The steps are separate so a deploy to several hosts can lock all, prepare all, switch all,
/// then verify: `lock` → `prepare` → `switchTo` → (verify over HTTP) → `prune` → `unlock`.
/// The steps that change the host expect the caller to hold the lock. Every path sent to the
/// host is single-quoted; the app name and the root are checked before any command is built.
/// The remote side needs a POSIX `sh` with `tar`, `cp -al`, `mv -T`, `xargs -0`, `stat -c` and
/// `find -delete` (GNU coreutils/findutils, or BusyBox).
public struct HostDeployer: Sendable {
    public let transport: any HostTransport
    public let app: String
    /// The host's root folder (devsys.yaml `hosts.<name>.root`).
    public let root: String
    /// Who deploys, for the lock and the log ("alice", "reconciler").
    public var actor: String
    /// For each command but the upload.
    public var commandTimeout: Duration = .seconds(60)
    public var uploadTimeout: Duration = .seconds(30 * 60)
    /// A lock older than this whose owner is a dead process of this machine is broken.
    public var staleLockAge: Duration = .seconds(30 * 60)
    /// Paths kept in `<root>/<app>/shared/` and linked into each revision (`storage/`, `.env`).
    public var shared: [String] = []
    /// Paths made writable for the deploy user's group in each revision (or in `shared/`).
    public var writable: [String] = []

    /// Throws `DeployError.invalidName` for an app name that is not one plain folder name
    /// (letters, digits, `.`, `_`, `-`; no `..`, no `/`) or a root with a `..` part or control
    /// characters: the rules devsys.yaml is validated with.
    public init(transport: any HostTransport, app: String, root: String, actor: String = "devsys") throws {
        try Self.validate(app: app)
        try Self.validate(root: root)
        self.transport = transport
        self.app = app
        self.root = root
        self.actor = actor
    }

    public var host: String { transport.name }
    /// `<root>/<app>`.
    public var appFolder: String { (root.hasSuffix("/") ? String(root.dropLast()) : root) + "/" + app }
    public var lockPath: String { appFolder + "/.devsys/lock" }
    public var logPath: String { appFolder + "/.devsys/log" }
    var quotedApp: String { ShellWord.quote(appFolder) }

    /// The same rules devsys.yaml is validated with (`ProjectConfig.nameProblem`, `Host.rootProblem`).
    static func validate(app: String) throws {
        if let problem = ProjectConfig.nameProblem(app) {
            throw DeployError.invalidName(what: "app name", value: app, reason: problem)
        }
    }

    static func validate(root: String) throws {
        if let problem = ProjectConfig.Host.rootProblem(root) {
            throw DeployError.invalidName(what: "host root", value: root, reason: problem)
        }
    }

    // MARK: Reading the host

    /// What the host holds: the target of `current` and every complete revision.
    struct Inventory {
        var currentTarget: String?
        var revisions: [HostRevision]

        var live: HostRevision? {
            guard let currentTarget, currentTarget.hasPrefix("revisions/") else { return nil }
            let name = currentTarget.dropFirst("revisions/".count)
            return revisions.first { $0.revision.folderName == name }
        }
    }

    func inventory() throws -> Inventory {
        let script = """
            cd \(quotedApp) 2>/dev/null || exit 0
            if t=$(readlink current 2>/dev/null); then printf 'current %s\\n' "$t"; fi
            for d in revisions/*/; do
              c=; read -r c < "${d}REVISION" 2>/dev/null || [ -n "$c" ] || continue
              n=${d#revisions/}; printf 'rev %s %s\\n' "${n%/}" "$c"
            done
            """
        let output = try run(script, step: "reading the revisions").stdoutText
        var inventory = Inventory(revisions: [])
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            if fields.first == "current", fields.count >= 2 {
                inventory.currentTarget = fields.dropFirst().joined(separator: " ")
            } else if fields.first == "rev", fields.count == 3, let revision = DeployRevision(folderName: fields[1]),
                let commit = ObjectID(hex: fields[2].trimmingCharacters(in: .whitespacesAndNewlines))
            {
                inventory.revisions.append(HostRevision(revision: revision, commit: commit))
            }
        }
        inventory.revisions.sort { $0.revision < $1.revision }
        return inventory
    }

    /// The live revision: where `current` points and the commit its `REVISION` holds; nil before
    /// the first deploy. Throws `DeployError.unexpectedOutput` when `current` points elsewhere
    /// than a complete revision folder, and `DeployError.commandFailed`/`HostTransportError`.
    public func current() throws -> HostRevision? {
        let inventory = try inventory()
        guard let target = inventory.currentTarget else { return nil }
        guard let live = inventory.live else {
            throw DeployError.unexpectedOutput(
                host: host,
                step: "reading \(appFolder)/current",
                output: "current points at '\(target)', not a complete revision folder"
            )
        }
        return live
    }

    /// The complete revisions on the host, oldest first.
    public func revisions() throws -> [HostRevision] {
        try inventory().revisions
    }

    // MARK: Log

    /// Appends one JSON line to `.devsys/log` (for actions decided elsewhere: "verify-failed").
    public func log(action: String, revision: DeployRevision? = nil, commit: ObjectID? = nil, detail: String? = nil) throws {
        let line = logLine(action: action, revision: revision, commit: commit, detail: detail)
        try run(
            "mkdir -p \(quotedApp)/.devsys && printf '%s\\n' \(ShellWord.quote(line)) >> \(quotedApp)/.devsys/log",
            step: "writing the deploy log"
        )
    }

    /// One line of `.devsys/log`.
    public struct LogEntry: Codable, Sendable, Hashable {
        public var time: String
        public var host: String
        public var app: String
        public var action: String
        public var actor: String
        public var revision: String?
        public var commit: String?
        public var detail: String?
    }

    func logLine(action: String, revision: DeployRevision?, commit: ObjectID?, detail: String?) -> String {
        Self.encode(logEntry(action: action, revision: revision, commit: commit, detail: detail))
    }

    func logEntry(action: String, revision: DeployRevision?, commit: ObjectID?, detail: String?) -> LogEntry {
        LogEntry(
            time: ISO8601DateFormatter().string(from: Date()),
            host: host,
            app: app,
            action: action,
            actor: actor,
            revision: revision?.folderName,
            commit: commit?.hex,
            detail: detail
        )
    }

    /// One JSON line: JSON escapes newlines inside strings.
    static func encode(_ entry: LogEntry) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(entry), as: UTF8.self)) ?? "{}"
    }

    // MARK: Running

    /// Runs a step; a non-zero exit becomes `DeployError.commandFailed` with the step and stderr.
    @discardableResult
    func run(_ command: String, step: String, timeout: Duration? = nil, input: (((Data) throws -> Void) throws -> Void)? = nil) throws -> RemoteResult
    {
        let result = try transport.run(command, timeout: timeout ?? commandTimeout, writeInput: input)
        guard result.succeeded else {
            throw DeployError.commandFailed(
                host: host,
                step: step,
                status: result.status,
                stderr: String(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines).suffix(2000))
            )
        }
        return result
    }
}
