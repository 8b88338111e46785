import Specs

/// What each caller makes of an error's category, written once: the CLI's exit status and the
/// HTTP API's status. (The audit log's `refused`/`failed` is `ErrorCategory.isRefusal`.)
extension ErrorCategory {
    /// The CLI's exit status: 1 for every category. Usage errors, which never reach the domain,
    /// exit 2.
    public var exitStatus: Int32 {
        switch self {
        case .invalid, .notFound, .forbidden, .conflict, .unavailable, .failed: 1
        }
    }

    /// The HTTP API's status.
    public var httpStatus: Int {
        switch self {
        case .invalid: 400
        case .notFound: 404
        case .forbidden: 403
        case .conflict: 409
        case .unavailable: 503
        case .failed: 500
        }
    }
}
