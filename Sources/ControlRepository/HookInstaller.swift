import DevsysResources
import Foundation
import Git

/// Installs devsys's git hooks (`hooks/` of the source tree) into a repository, pointing them at
/// one devsys binary by absolute path; they fall back to `devsys` on PATH when it has moved.
public struct HookInstaller {
    /// The hooks devsys installs.
    public static let hookNames = ["pre-receive", "pre-commit", "post-receive"]
    /// Replaced by the binary's path in each installed hook.
    static let binaryPlaceholder = "@DEVSYS_BIN@"
    /// A line every devsys hook carries, so a reinstall knows it may overwrite the file.
    static let marker = "# devsys "

    public let devsysBinary: String
    public let source: URL

    public init(devsysBinary: String, source: URL = DevsysResources.hooks) {
        self.devsysBinary = devsysBinary
        self.source = source
    }

    /// Writes each hook into the repository's hooks folder (executable, atomically).
    /// - Parameter force: overwrite hooks that devsys did not write.
    /// - Returns: the paths written.
    /// - Throws: `HookInstallError.foreignHook` for a hook of someone else's when not `force`.
    @discardableResult
    public func install(in repository: Repository, force: Bool) throws -> [URL] {
        let folder = repository.gitDirectory.appendingPathComponent("hooks")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var written: [URL] = []
        for name in Self.hookNames {
            let target = folder.appendingPathComponent(name)
            if !force, let existing = try? String(contentsOf: target, encoding: .utf8), !existing.contains(Self.marker + name) {
                throw HookInstallError.foreignHook(target.path)
            }
            let script = try String(contentsOf: source.appendingPathComponent(name), encoding: .utf8)
                .replacingOccurrences(of: Self.binaryPlaceholder, with: devsysBinary.replacingOccurrences(of: "'", with: "'\\''"))
            let temporary = folder.appendingPathComponent(".\(name).devsys-new")
            try Data(script.utf8).write(to: temporary)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: temporary.path)
            if rename(temporary.path, target.path) != 0 {
                throw HookInstallError.writeFailed(target.path, String(cString: strerror(errno)))
            }
            written.append(target)
        }
        return written
    }
}

public enum HookInstallError: Error, CustomStringConvertible {
    case foreignHook(String)
    case writeFailed(String, String)

    public var description: String {
        switch self {
        case .foreignHook(let path):
            "\(path) exists and was not written by devsys; merge it by hand or rerun with --force to replace it"
        case .writeFailed(let path, let reason):
            "could not write \(path): \(reason)"
        }
    }
}
