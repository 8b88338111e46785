import CGit2
import Foundation

/// Who made a commit, tag or note, and when (to the second, as git stores it).
public struct Signature: Sendable, Hashable {
    public var name: String
    public var email: String
    public var time: Date

    /// `time` is rounded down to the whole second, as git stores it, so a written and a
    /// read-back signature compare equal.
    public init(name: String, email: String, time: Date = Date()) {
        self.name = name
        self.email = email
        self.time = Date(timeIntervalSince1970: (time.timeIntervalSince1970).rounded(.down))
    }

    init(_ signature: UnsafePointer<git_signature>) {
        let value = signature.pointee
        self.name = value.name.map { String(cString: $0) } ?? ""
        self.email = value.email.map { String(cString: $0) } ?? ""
        self.time = Date(timeIntervalSince1970: TimeInterval(value.when.time))
    }

    /// Makes a libgit2 signature for the duration of `body`, stamped with the local time zone.
    /// Throws `GitError` when the name or email is refused (empty, or contains `<`, `>`).
    func withGitSignature<T>(_ body: (UnsafePointer<git_signature>) throws -> T) throws -> T {
        let seconds = git_time_t(time.timeIntervalSince1970.rounded(.down))
        let offsetMinutes = Int32(TimeZone.current.secondsFromGMT(for: time) / 60)
        var signature: UnsafeMutablePointer<git_signature>?
        try check(git_signature_new(&signature, name, email, seconds, offsetMinutes), "git_signature_new")
        defer { git_signature_free(signature) }
        guard let signature else { throw GitError(code: -1, message: "no signature returned", function: "git_signature_new") }
        return try body(signature)
    }
}
