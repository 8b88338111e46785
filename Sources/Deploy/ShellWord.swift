/// Quoting for the POSIX shell command lines sent to hosts.
public enum ShellWord {
    /// `value` as one shell word: single-quoted, with each `'` written as `'\''`. Safe for any
    /// text without NUL; nothing inside is expanded.
    public static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
