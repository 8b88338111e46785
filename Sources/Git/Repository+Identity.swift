import CGit2
import Foundation

/// A person as git names them in commits: `user.name` and, when known, `user.email`.
public struct GitIdentity: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var email: String?

    public init(name: String, email: String?) {
        self.name = name
        self.email = email
    }

    /// `Ada Lovelace <ada@example.com>`, or just the name.
    public var description: String { email.map { "\(name) <\($0)>" } ?? name }
}

extension Repository {
    /// The value of `key` (e.g. `user.name`) in the repository's configuration chain — its own
    /// config, then the user's and the system's, as git reads them; nil when unset.
    /// Throws `GitError` when the configuration cannot be read.
    public func configValue(_ key: String) throws -> String? {
        let config = try make("git_repository_config_snapshot") { git_repository_config_snapshot($0, pointer) }
        defer { git_config_free(config) }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let code = git_config_get_string_buf(&buffer, config, key)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(code, "git_config_get_string_buf")
        return buffer.ptr.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: buffer.size), as: UTF8.self) }
    }

    /// Sets `key` to a boolean in the repository's own config (`.git/config`, or `config` of a
    /// bare repository), as `git config key true` does. Throws `GitError`.
    public func setConfigValue(_ key: String, to value: Bool) throws {
        let config = try make("git_repository_config") { git_repository_config($0, pointer) }
        defer { git_config_free(config) }
        try check(git_config_set_bool(config, key, value ? 1 : 0), "git_config_set_bool")
    }

    /// Who git would record as the author of a commit made here: `GIT_AUTHOR_NAME` and
    /// `GIT_AUTHOR_EMAIL` from `environment` when set, else `user.name` and `user.email` from the
    /// configuration chain (`EMAIL` as git's last resort for the address). Nil when no name is
    /// set anywhere. Throws `GitError` when the configuration cannot be read.
    public func authorIdentity(environment: [String: String]) throws -> GitIdentity? {
        func nonEmpty(_ value: String?) -> String? {
            guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        guard let name = try nonEmpty(environment["GIT_AUTHOR_NAME"]) ?? nonEmpty(configValue("user.name")) else { return nil }
        let email = try nonEmpty(environment["GIT_AUTHOR_EMAIL"]) ?? nonEmpty(configValue("user.email")) ?? nonEmpty(environment["EMAIL"])
        return GitIdentity(name: name, email: email)
    }
}
