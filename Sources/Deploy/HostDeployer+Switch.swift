import Foundation
import Git

/// Making a revision live atomically (rename(2) of a fresh symlink), rolling back, pruning.
extension HostDeployer {
    /// Points `current` at `revision`: a fresh symlink `current.new` renamed over `current`
    /// (`mv -T`, one rename(2)), so every request sees the old tree or the new one, never neither.
    /// Returns the revision that was live before (nil on a first deploy).
    /// Throws `DeployError.revisionMissing` when the folder is not complete on the host.
    @discardableResult
    public func switchTo(revision: DeployRevision) throws -> HostRevision? {
        try switchCurrent(to: revision, action: "switch")
    }

    /// Switches back to a revision still on the host; the same atomic switch as `switchTo`,
    /// logged as a rollback. Returns the revision that was live before.
    @discardableResult
    public func rollback(to revision: DeployRevision) throws -> HostRevision? {
        try switchCurrent(to: revision, action: "rollback")
    }

    /// One command, no listing first: it checks the revision is complete, reads what was live,
    /// switches and logs. The log line is built here with two placeholders the host fills in (the
    /// commit from `REVISION`, the previous folder), so a rollback costs one round trip.
    private func switchCurrent(to revision: DeployRevision, action: String) throws -> HostRevision? {
        let name = ShellWord.quote("revisions/" + revision.folderName)
        var entry = logEntry(action: action, revision: revision, commit: nil, detail: "from @PREVIOUS@")
        entry.commit = "@COMMIT@"
        let result = try transport.run(
            """
            cd \(quotedApp) || exit 3
            c=; read -r c < \(name)/REVISION 2>/dev/null || [ -n "$c" ] || exit 6
            p=$(readlink current 2>/dev/null) && { pc=; read -r pc < "$p/REVISION" 2>/dev/null; printf 'previous %s %s\\n' "$p" "$pc"; }
            rm -f current.new && ln -s \(name) current.new && mv -T current.new current || exit 4
            l=\(ShellWord.quote(Self.encode(entry)))
            q=${p#revisions/}; l="${l%%@COMMIT@*}$c${l#*@COMMIT@}"; l="${l%%@PREVIOUS@*}${q:-nothing}${l#*@PREVIOUS@}"
            printf '%s\\n' "$l" >> .devsys/log
            """,
            timeout: commandTimeout
        )
        if result.status == 6 { throw DeployError.revisionMissing(host: host, revision: revision.folderName) }
        guard result.succeeded else {
            throw DeployError.commandFailed(
                host: host,
                step: "\(action) to \(revision.folderName)",
                status: result.status,
                stderr: String(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines).suffix(2000))
            )
        }
        let fields = result.stdoutText.split(separator: "\n").first { $0.hasPrefix("previous ") }?.split(separator: " ").map(String.init) ?? []
        guard fields.count == 3, fields[1].hasPrefix("revisions/"),
            let previous = DeployRevision(folderName: String(fields[1].dropFirst("revisions/".count))),
            let commit = ObjectID(hex: fields[2])
        else { return nil }
        return HostRevision(revision: previous, commit: commit)
    }

    /// Removes old revisions, keeping the newest `keep` (by sequence), the live one and those in
    /// `protecting` (the rollback target). Each is renamed to `.pruning-<name>` before it is
    /// deleted, so a half-deleted folder never looks like a revision. Returns the removed ones.
    @discardableResult
    public func prune(keep: Int, protecting: [DeployRevision] = []) throws -> [DeployRevision] {
        let inventory = try inventory()
        var kept = Set(inventory.revisions.map(\.revision).sorted(by: >).prefix(max(1, keep)))
        kept.formUnion(protecting)
        if let live = inventory.live { kept.insert(live.revision) }
        let doomed = inventory.revisions.map(\.revision).filter { !kept.contains($0) }
        guard !doomed.isEmpty else { return [] }
        let names = doomed.map { ShellWord.quote($0.folderName) }.joined(separator: " ")
        let log = logLine(action: "prune", revision: nil, commit: nil, detail: "removed " + doomed.map(\.folderName).joined(separator: ", "))
        try run(
            """
            cd \(quotedApp)/revisions || exit 3
            for n in \(names); do
              [ "$(readlink ../current)" = "revisions/$n" ] && continue
              mv "$n" ".pruning-$n" && rm -rf ".pruning-$n" || exit 4
            done
            printf '%s\\n' \(ShellWord.quote(log)) >> ../.devsys/log
            """,
            step: "pruning revisions"
        )
        return doomed
    }
}
