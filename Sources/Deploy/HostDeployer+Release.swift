import Foundation
import Git

/// The app's own commands around a switch (devsys.yaml `apps.<app>.build` and `release`), taking
/// `current` away when a first deploy fails, and reading the host's PHP error log.
extension HostDeployer {
    /// What one list of release commands printed on the host.
    public struct CommandsOutput: Sendable, Hashable, Codable {
        /// `build`, `before_switch`, `once`, `after_switch`.
        public var step: String
        public var commands: [String]
        /// stdout and stderr together, the last 16 KiB.
        public var output: String
    }

    /// Runs `commands` one after the other with `sh -c` inside `revisions/<revision>` (stopping
    /// at the first that fails), with `DEVSYS_STEP`, `DEVSYS_REVISION`, `DEVSYS_APP_ROOT` and
    /// `DEVSYS_SHARED` set, and appends their output to the deploy log. One round trip, plus
    /// one for the log line. Throws `DeployError.releaseCommandFailed` with the output.
    @discardableResult
    public func runCommands(_ commands: [String], step: String, in revision: DeployRevision, timeout: Duration? = nil) throws -> CommandsOutput {
        let folder = ShellWord.quote(appFolder + "/revisions/" + revision.folderName)
        var script = """
            cd \(folder) || exit 3
            export DEVSYS_STEP=\(ShellWord.quote(step)) DEVSYS_REVISION=\(ShellWord.quote(revision.folderName)) \
            DEVSYS_APP_ROOT=\(quotedApp) DEVSYS_SHARED=\(quotedApp)/shared
            exec 2>&1
            """
        for (index, command) in commands.enumerated() {
            script += """

                printf '$ %s\\n' \(ShellWord.quote(command))
                sh -c \(ShellWord.quote(command)) </dev/null || { s=$?; printf '[exit status %s]\\n' "$s"; exit $((100 + \(index))); }
                """
        }
        let result = try transport.run(script, timeout: timeout ?? commandTimeout)
        let output = String(result.stdoutText.suffix(16 * 1024))
        let failed = result.status >= 100 && Int(result.status) - 100 < commands.count ? commands[Int(result.status) - 100] : nil
        try? log(action: step, revision: revision, detail: (failed.map { "FAILED (\($0)): " } ?? "") + String(output.suffix(4000)))
        guard result.succeeded else {
            throw DeployError.releaseCommandFailed(
                host: host,
                step: step,
                command: failed ?? commands.joined(separator: "; "),
                status: failed == nil ? result.status : 1,
                output: String(output.suffix(2000))
            )
        }
        return CommandsOutput(step: step, commands: commands, output: output)
    }

    /// Removes `current`, so the host serves no revision (as before its first deploy): what a
    /// failed first deploy leaves. Logged as `rollback` to nothing.
    public func removeCurrent() throws {
        let line = logLine(action: "rollback", revision: nil, commit: nil, detail: "nothing to roll back to: current removed")
        try run(
            "cd \(quotedApp) || exit 3\nrm -f current current.new || exit 4\nprintf '%s\\n' \(ShellWord.quote(line)) >> .devsys/log",
            step: "removing current"
        )
    }

    /// Removes a revision that never went live (its build failed), so the next deploy of the
    /// commit builds it again instead of reusing it. Never the live one.
    public func removeRevision(_ revision: DeployRevision) throws {
        let name = ShellWord.quote(revision.folderName)
        try run(
            """
            cd \(quotedApp)/revisions || exit 3
            [ "$(readlink ../current)" = "revisions/"\(name) ] && exit 0
            [ -e \(name) ] || exit 0
            mv \(name) .pruning-\(name) && rm -rf .pruning-\(name)
            """,
            step: "removing \(revision.folderName)"
        )
    }

    /// The size of the file at `path` on the host (0 when it does not exist): where the lines
    /// that verification adds to the PHP error log start.
    public func fileSize(_ path: String) throws -> Int {
        let result = try run("wc -c < \(ShellWord.quote(path)) 2>/dev/null || echo 0", step: "reading \(path)")
        return Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// The lines `path` gained after byte `offset` (at most `limit` bytes, the last ones); all of
    /// it when the file shrank (it was rotated).
    public func linesAdded(to path: String, since offset: Int, limit: Int = 64 * 1024) throws -> [String] {
        let quoted = ShellWord.quote(path)
        let result = try run(
            """
            [ -f \(quoted) ] || exit 0
            s=$(wc -c < \(quoted)); if [ "$s" -lt \(offset) ]; then o=1; else o=\(offset + 1); fi
            tail -c +$o \(quoted) | tail -c \(limit)
            """,
            step: "reading \(path)"
        )
        return result.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
    }
}
