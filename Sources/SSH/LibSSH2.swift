import CSSH2

/// Process-wide libssh2 set-up, done once before the first session is made.
enum LibSSH2 {
    private static let initialized: Int32 = libssh2_init(0)

    static func initialize() {
        _ = initialized
    }
}

/// The libssh2 this binary runs with, for `devsys doctor`.
public enum LibSSH2Version {
    /// "1.10.0".
    public static var current: String { libssh2_version(0).map { String(cString: $0) } ?? "unknown" }
}
