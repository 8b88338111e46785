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
        LibGit2.initialize()
        // libgit2 checks angle brackets but would write a newline or NUL into the object header.
        if (name + email).contains(where: { $0 == "\n" || $0 == "\0" }) {
            throw GitError(
                code: GIT_EINVALID.rawValue,
                message: "signature name and email cannot contain newlines or NUL bytes: \(name.debugDescription) <\(email.debugDescription)>",
                function: "git_signature_new"
            )
        }
        let seconds = git_time_t(time.timeIntervalSince1970.rounded(.down))
        let offsetMinutes = Int32(TimeZone.current.secondsFromGMT(for: time) / 60)
        var signature: UnsafeMutablePointer<git_signature>?
        try check(git_signature_new(&signature, name, email, seconds, offsetMinutes), "git_signature_new")
        defer { git_signature_free(signature) }
        guard let signature else { throw GitError(code: -1, message: "no signature returned", function: "git_signature_new") }
        return try body(signature)
    }

    /// `Name <email> 1700000000 +0100`, as commit and tag headers hold it (name and email trimmed
    /// and checked by libgit2). Throws `GitError` when they are refused.
    func gitHeaderValue() throws -> String {
        try withGitSignature { signature in
            let value = signature.pointee
            let name = value.name.map { String(cString: $0) } ?? ""
            let email = value.email.map { String(cString: $0) } ?? ""
            let offset = abs(Int(value.when.offset))
            let sign = value.when.offset < 0 ? "-" : "+"
            let hours = offset / 60 < 10 ? "0\(offset / 60)" : "\(offset / 60)"
            let minutes = offset % 60 < 10 ? "0\(offset % 60)" : "\(offset % 60)"
            return "\(name) <\(email)> \(value.when.time) \(sign)\(hours)\(minutes)"
        }
    }
}
