/// Checks paths handed to devsys before they reach libgit2, which would otherwise build odd
/// trees (`a//b`) or refuse them with a less helpful message.
enum RepositoryPath {
    /// Returns `path` when it is relative, has no empty, `.` or `..` component and does not
    /// enter `.git`; throws `GitError` of kind `.invalidPath` otherwise.
    static func validate(_ path: String, in function: String) throws(GitError) -> String {
        if path.isEmpty { throw .invalidPath(path, "the path is empty", in: function) }
        if path.hasPrefix("/") { throw .invalidPath(path, "it starts with '/'", in: function) }
        if path.utf8.contains(0) { throw .invalidPath(path, "it contains a NUL byte", in: function) }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            switch component {
            case "": throw .invalidPath(path, "it has an empty component ('//' or a trailing '/')", in: function)
            case ".", "..": throw .invalidPath(path, "'\(component)' components are not allowed", in: function)
            default:
                if component.lowercased() == ".git" { throw .invalidPath(path, "'.git' cannot be part of a tree", in: function) }
            }
        }
        return path
    }
}
