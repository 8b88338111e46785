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

    private func switchCurrent(to revision: DeployRevision, action: String) throws -> HostRevision? {
        let inventory = try inventory()
        guard let target = inventory.revisions.first(where: { $0.revision == revision }) else {
            throw DeployError.revisionMissing(host: host, revision: revision.folderName)
        }
        let previous = inventory.live
        let name = ShellWord.quote("revisions/" + revision.folderName)
        let log = logLine(action: action, revision: revision, commit: target.commit, detail: previous.map { "from \($0.revision.folderName)" })
        try run(
            """
            cd \(quotedApp) || exit 3
            [ -f \(name)/REVISION ] || { echo \(name)' is missing or incomplete' >&2; exit 4; }
            rm -f current.new && ln -s \(name) current.new && mv -T current.new current || exit 4
            printf '%s\\n' \(ShellWord.quote(log)) >> .devsys/log
            """,
            step: "\(action) to \(revision.folderName)"
        )
        return previous
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
