import Foundation
import Git

/// Uploading a revision: incremental over hard links, one tar stream, visible only complete.
extension HostDeployer {
    /// What `prepare` did.
    public struct PreparedRevision: Sendable, Hashable {
        public var revision: DeployRevision
        public var commit: ObjectID
        /// The revision hard-linked as the starting point; nil for a full upload.
        public var base: DeployRevision?
        /// Files, symlinks and `REVISION` sent in the tar stream.
        public var entriesSent: Int
        /// Paths of the base removed before the upload (gone or changed).
        public var pathsDeleted: Int
        /// The size of the tar stream.
        public var bytesSent: Int
        /// The revision was already complete on the host (a repeated job): nothing was sent.
        public var alreadyPresent: Bool
    }

    /// Uploads `commit`'s app tree as `revisions/<NNNN>-<sha12>/` without touching `current`.
    ///
    /// When the host has a revision whose commit `source` can read (the live one first, else the
    /// newest), it is hard-linked (`cp -al`) into a temp folder, the paths that changed or went away
    /// are removed (so no file shared with a live revision is ever written in place), and only the
    /// changed files travel; otherwise the whole tree does. The upload is one tar stream over one
    /// command whose last entry is `REVISION`: the temp folder `revisions/.incoming-<name>` is
    /// renamed to its final name only when `REVISION` arrived, so a revision folder appears only
    /// complete. Leftover temp folders of aborted runs are removed first.
    /// Throws `DeployError.uploadAborted` when the tree cannot be read or the stream is cut,
    /// `.revisionConflict`, `.commandFailed`, and what `source` throws before the upload starts.
    @discardableResult
    public func prepare(commit: ObjectID, sequence: Int, tree source: AppSource) throws -> PreparedRevision {
        try prepare(commit: commit, sequence: sequence, tree: source, inventory: inventory())
    }

    /// `prepare` with what the host holds already read (a rollout reads it once per host).
    func prepare(commit: ObjectID, sequence: Int, tree source: AppSource, inventory: Inventory) throws -> PreparedRevision {
        let revision = try DeployRevision(sequence: sequence, commit: commit)
        if let existing = inventory.revisions.first(where: { $0.revision == revision }) {
            guard existing.commit == commit else {
                throw DeployError.revisionConflict(host: host, revision: revision.folderName, holds: existing.commit.hex, wanted: commit.hex)
            }
            return PreparedRevision(
                revision: revision,
                commit: commit,
                base: nil,
                entriesSent: 0,
                pathsDeleted: 0,
                bytesSent: 0,
                alreadyPresent: true
            )
        }
        let entries = try source.entries(commit).filter { $0.mode != .submodule && $0.mode != .directory && $0.path != "REVISION" }
        let time = (try? source.time(commit)) ?? Date()

        var base: (revision: DeployRevision, changes: TreeChanges)?
        for candidate in [inventory.live].compactMap({ $0 }) + inventory.revisions.reversed() {
            if let previous = try? source.entries(candidate.commit) {
                base = (candidate.revision, TreeChanges(from: previous.filter { $0.mode != .submodule && $0.path != "REVISION" }, to: entries))
                break
            }
        }

        let name = ShellWord.quote(revision.folderName)
        let incoming = ShellWord.quote(".incoming-" + revision.folderName)
        let setUp = """
            mkdir -p \(quotedApp)/revisions \(quotedApp)/.devsys && cd \(quotedApp)/revisions || exit 3
            rm -rf .incoming-* .pruning-* || exit 3
            """
        if let base {
            let deletions = base.changes.deleted
            let unlink = unlinkSharedScript(in: ".incoming-" + revision.folderName)
            try run(
                setUp + "\n" + """
                    cp -al \(ShellWord.quote(base.revision.folderName)) \(incoming) && rm -f \(incoming)/REVISION || exit 3
                    """ + (unlink.isEmpty ? "" : "\n" + unlink) + "\n" + """
                        cd \(incoming) && xargs -0 rm -rf --\(base.changes.leavesEmptyFolders ? " && { find . -mindepth 1 -type d -empty -delete 2>/dev/null || true; }" : "")
                        """,
                step: "staging \(revision.folderName) from \(base.revision.folderName)",
                timeout: uploadTimeout,
                input: { write in
                    for path in deletions { try write(Data((path + "\0").utf8)) }
                }
            )
        } else {
            try run(setUp + "\nmkdir \(incoming)", step: "staging \(revision.folderName)")
        }

        let toSend = base?.changes.sent ?? entries
        let log = logLine(
            action: "prepare",
            revision: revision,
            commit: commit,
            detail: base.map { "incremental from \($0.revision.folderName)" } ?? "full"
        )
        let upload = """
            cd \(quotedApp)/revisions || exit 3
            tar -x -o -f - -C \(incoming) || exit 4
            devsys_revision=; { IFS= read -r devsys_revision < \(incoming)/REVISION; } 2>/dev/null
            if [ "$devsys_revision" != \(ShellWord.quote(commit.hex)) ]; then
              echo 'the tar stream ended before its REVISION file: upload incomplete' >&2; exit 4
            fi
            if [ -e \(name) ]; then echo "revisions/"\(name)" appeared during the upload" >&2; exit 5; fi
            \(linkSharedScript(in: ".incoming-" + revision.folderName))
            mv \(incoming) \(name) && printf '%s\\n' \(ShellWord.quote(log)) >> ../.devsys/log
            """
        var bytes = 0
        do {
            try run(upload, step: "uploading \(revision.folderName)", timeout: uploadTimeout) { write in
                try withoutActuallyEscaping(write) { write in
                    let stream = TarStream(modificationTime: time, output: write)
                    for entry in toSend {
                        try stream.add(entry, as: entry.path, blob: source.blob)
                    }
                    // Last, so a folder without it is a cut upload.
                    try stream.addFile("REVISION", content: Data((commit.hex + "\n").utf8))
                    try stream.finish()
                    bytes = stream.bytesWritten
                }
            }
        } catch let error as DeployError {
            if case .commandFailed = error { throw error }
            throw DeployError.uploadAborted(host: host, revision: revision.folderName, reason: error.description)
        } catch {
            throw DeployError.uploadAborted(host: host, revision: revision.folderName, reason: "\(error)")
        }
        return PreparedRevision(
            revision: revision,
            commit: commit,
            base: base?.revision,
            entriesSent: toSend.count + 1,
            pathsDeleted: base?.changes.deleted.count ?? 0,
            bytesSent: bytes,
            alreadyPresent: false
        )
    }
}
