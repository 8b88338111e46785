import CSSH2

/// Process-wide libssh2 set-up, done once before the first session is made.
enum LibSSH2 {
    private static let initialized: Int32 = libssh2_init(0)

    static func initialize() {
        _ = initialized
    }
}
