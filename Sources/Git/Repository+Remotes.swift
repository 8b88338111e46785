import CGit2

extension Repository {
    /// The fetch URL of the remote `name` (e.g. `origin`) as configured, unresolved: a path, a
    /// `file://`, `ssh://` or `https://` URL, or scp-like `host:path`. Nil when there is no such
    /// remote. Throws `GitError` when the configuration cannot be read or the remote is malformed.
    public func remoteURL(named name: String) throws -> String? {
        var remote: OpaquePointer?
        let code = git_remote_lookup(&remote, pointer, name)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(code, "git_remote_lookup")
        guard let remote else { throw GitError.missingResult("git_remote_lookup") }
        defer { git_remote_free(remote) }
        return git_remote_url(remote).map { String(cString: $0) }
    }
}
