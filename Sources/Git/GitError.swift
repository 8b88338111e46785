import CGit2

/// A failed git operation: libgit2's result code, its error class and message (captured right
/// after the failing call, before anything else can overwrite them) and the name of the call.
///
/// `description` reads like `git_reference_create_matching: old reference value does not match (code -15)`.
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The outcomes callers branch on; everything else is `.other`.
    public enum Kind: Sendable, Hashable {
        /// The object, reference, note or path does not exist (`GIT_ENOTFOUND`).
        case notFound
        /// The thing to create already exists (`GIT_EEXISTS`): a create-only ref, a tag, a note.
        case exists
        /// Compare-and-swap lost: the reference no longer has the expected value (`GIT_EMODIFIED`).
        case modified
        /// Another writer holds the lock file of the reference or index (`GIT_ELOCKED`); retry.
        case locked
        /// Unmerged entries or merge conflicts prevent the operation
        /// (`GIT_ECONFLICT`, `GIT_EMERGECONFLICT`, `GIT_EUNMERGED`).
        case conflict
        /// A path given to devsys is not a clean relative path inside the repository.
        case invalidPath
        /// Any other failure; see `code` and `message`.
        case other
    }

    /// libgit2's return code (`GIT_ENOTFOUND` is -3, `GIT_EMODIFIED` is -15, …).
    public var code: Int32
    /// libgit2's error class (`git_error_t`, e.g. 4 for `GIT_ERROR_REFERENCE`); 0 when none was set.
    public var errorClass: Int32
    /// The message, as libgit2 or devsys worded it.
    public var message: String
    /// The call that failed, e.g. `git_reference_create_matching`.
    public var function: String
    /// What kind of failure this is.
    public var kind: Kind

    /// Makes an error by hand; `kind` defaults to the one `code` maps to.
    public init(code: Int32, errorClass: Int32 = 0, message: String, function: String, kind: Kind? = nil) {
        self.code = code
        self.errorClass = errorClass
        self.message = message
        self.function = function
        self.kind = kind ?? GitError.kind(for: code)
    }

    public var description: String { "\(function): \(message) (code \(code))" }

    /// Whether retrying with a fresh "expected" value may succeed: the ref moved, appeared or was locked.
    public var isLostRace: Bool { kind == .modified || kind == .exists || kind == .locked }

    /// A path given to devsys was refused before reaching libgit2.
    public static func invalidPath(_ path: String, _ reason: String, in function: String) -> GitError {
        GitError(
            code: GIT_EINVALIDSPEC.rawValue,
            message: "invalid path '\(path)': \(reason); paths are relative to the repository root, like 'app/index.php'",
            function: function,
            kind: .invalidPath
        )
    }

    /// Captures libgit2's last error for `function`, which returned `code`.
    static func last(_ code: Int32, _ function: String) -> GitError {
        var message = "unknown error"
        var errorClass: Int32 = 0
        if let last = git_error_last() {
            errorClass = last.pointee.klass
            if let text = last.pointee.message { message = String(cString: text) }
        }
        // Never report an earlier call's message as this one's.
        git_error_clear()
        return GitError(code: code, errorClass: errorClass, message: message, function: function)
    }

    static func kind(for code: Int32) -> Kind {
        switch code {
        case GIT_ENOTFOUND.rawValue: .notFound
        case GIT_EEXISTS.rawValue: .exists
        case GIT_EMODIFIED.rawValue: .modified
        case GIT_ELOCKED.rawValue: .locked
        case GIT_ECONFLICT.rawValue, GIT_EMERGECONFLICT.rawValue, GIT_EUNMERGED.rawValue: .conflict
        default: .other
        }
    }
}

/// Throws a `GitError` for `function` when a libgit2 call returned a negative code.
@inline(__always)
func check(_ code: Int32, _ function: @autoclosure () -> String) throws(GitError) {
    if code < 0 { throw GitError.last(code, function()) }
}
