import Foundation

/// Why a deploy step on a host failed. Each message names the host and says what to do.
public enum DeployError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An app name, host root, revision folder or path that cannot be used safely.
    case invalidName(what: String, value: String, reason: String)
    /// Another deploy holds the app's lock on the host.
    case locked(host: String, app: String, lockPath: String, owner: String, ageSeconds: Int)
    /// The lock this deployer meant to release is not its own (anymore).
    case lockNotHeld(host: String, lockPath: String, owner: String)
    /// A remote command exited non-zero.
    case commandFailed(host: String, step: String, status: Int32, stderr: String)
    /// A remote command printed something this code does not understand.
    case unexpectedOutput(host: String, step: String, output: String)
    /// The revision named does not exist complete on the host.
    case revisionMissing(host: String, revision: String)
    /// A revision folder with this name holds another commit.
    case revisionConflict(host: String, revision: String, holds: String, wanted: String)
    /// The upload stopped part way (the tree could not be read, or the connection failed).
    /// `current` is untouched; the partial folder is removed by the next `prepare`.
    case uploadAborted(host: String, revision: String, reason: String)
    /// A file of the tree cannot go into a tar stream.
    case unsupportedEntry(path: String, reason: String)
    /// A `build` or `release` command of the app failed on the host (`output`: what it printed).
    case releaseCommandFailed(host: String, step: String, command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case .invalidName(let what, let value, let reason):
            "invalid \(what) '\(value)': \(reason)"
        case .locked(let host, let app, let lockPath, let owner, let age):
            "\(host): app '\(app)' is locked by another deploy (\(owner), for \(age) s). Wait for it to finish; "
                + "if its owner is dead, remove \(lockPath) on \(host) and retry."
        case .lockNotHeld(let host, let lockPath, let owner):
            "\(host): the deploy lock \(lockPath) is not held by this deploy (owner: \(owner.isEmpty ? "none" : owner))"
        case .commandFailed(let host, let step, let status, let stderr):
            "\(host): \(step) failed (exit status \(status))" + (stderr.isEmpty ? "" : ": \(stderr)")
        case .unexpectedOutput(let host, let step, let output):
            "\(host): \(step) gave unexpected output: \(output.prefix(300))"
        case .revisionMissing(let host, let revision):
            "\(host): revision \(revision) does not exist complete on the host (see `devsys revisions`)"
        case .revisionConflict(let host, let revision, let holds, let wanted):
            "\(host): revisions/\(revision) already holds commit \(holds), not \(wanted); remove it on the host or deploy with another sequence number"
        case .uploadAborted(let host, let revision, let reason):
            "\(host): upload of revision \(revision) aborted: \(reason). The live revision is untouched; "
                + "the partial upload is removed by the next deploy."
        case .unsupportedEntry(let path, let reason):
            "cannot ship '\(path)': \(reason)"
        case .releaseCommandFailed(let host, let step, let command, let status, let output):
            "\(host): \(step) command '\(command)' failed (exit status \(status))" + (output.isEmpty ? "" : ":\n\(output)")
        }
    }
}
