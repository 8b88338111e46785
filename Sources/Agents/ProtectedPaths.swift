import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The paths a coding agent may not change (DESIGN §3b): `specs/`, `monitoring/`, `hooks/`,
/// `devsys.yaml`, `.git*`, plus `agents.coding.protected`.
///
/// A pattern ending in `/` protects that folder and everything below; a pattern with `*`, `?` or
/// `[` is a shell glob matched against the path and each folder above it (`*` crosses `/`, so
/// `.git*` covers `.gitignore` and `.github/workflows/ci.yml`); any other pattern protects that
/// exact file, or the folder of that name and everything below.
struct ProtectedPaths {
    let patterns: [String]

    init(_ patterns: [String]) {
        self.patterns = patterns.filter { !$0.isEmpty }
    }

    /// The first pattern that protects `path`, or nil.
    func pattern(protecting path: String) -> String? {
        patterns.first { Self.matches(path, $0) }
    }

    /// The paths of `paths` that are protected.
    func violations(in paths: [String]) -> [String] {
        paths.filter { pattern(protecting: $0) != nil }
    }

    static func matches(_ path: String, _ pattern: String) -> Bool {
        if pattern.contains(where: { "*?[".contains($0) }) {
            var candidate = Substring(path)
            while true {
                if fnmatch(pattern, String(candidate), 0) == 0 { return true }
                guard let slash = candidate.lastIndex(of: "/") else { return false }
                candidate = candidate[..<slash]
            }
        }
        if pattern.hasSuffix("/") { return path.hasPrefix(pattern) || path + "/" == pattern }
        return path == pattern || path.hasPrefix(pattern + "/")
    }
}
