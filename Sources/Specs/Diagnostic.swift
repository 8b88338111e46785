/// One problem found in a file of the control repository, located at a line and column.
///
/// `description` prints it the way compilers do, so editors and CI logs can jump to it:
/// `specs/001-about-page/task.yaml:4:6: error: unknown app 'blgo'; did you mean 'blog'?`
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable {
        /// The file is rejected.
        case error
        /// The file is accepted, but probably not what its author meant.
        case warning
    }

    /// The file (or folder) the problem is in, relative to the repository root.
    public var path: String
    /// 1-based line; 1 when the problem is the whole file.
    public var line: Int
    /// 1-based column, counted in Unicode scalars; 1 when the problem is the whole file.
    public var column: Int
    public var severity: Severity
    /// What is wrong and what to do about it.
    public var message: String

    public init(path: String, line: Int = 1, column: Int = 1, severity: Severity = .error, message: String) {
        self.path = path
        self.line = max(1, line)
        self.column = max(1, column)
        self.severity = severity
        self.message = message
    }

    public var description: String {
        "\(path):\(line):\(column): \(severity.rawValue): \(message)"
    }
}

extension Diagnostic {
    /// Orders diagnostics the way a reader goes through files: by path, then line, then column.
    static func sortedForReading(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.sorted { a, b in
            if a.path != b.path { return a.path < b.path }
            if a.line != b.line { return a.line < b.line }
            if a.column != b.column { return a.column < b.column }
            return a.message < b.message
        }
    }
}

extension Array where Element == Diagnostic {
    /// Whether any diagnostic is an error (warnings do not reject a file).
    public var containsErrors: Bool { contains { $0.severity == .error } }
}
