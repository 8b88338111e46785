import DevsysResources
import Foundation
import Git

/// The files of a new control repository (`repo-template/` of the devsys source tree), as a
/// change set ready to commit.
public struct RepositoryTemplate {
    public let root: URL

    public init(root: URL = DevsysResources.repositoryTemplate) {
        self.root = root
    }

    /// Every file below `root`, keyed by its path relative to it; executable bits kept.
    /// - Throws: `ControlRepositoryError.templateMissing` when the folder is gone.
    public func files() throws -> [String: FileChange] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw ControlRepositoryError.templateMissing(root.path)
        }
        let prefix = root.resolvingSymlinksInPath().path + "/"
        var files: [String: FileChange] = [:]
        for case let url as URL in walker where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            let relative = String(url.resolvingSymlinksInPath().path.dropFirst(prefix.count))
            let executable = FileManager.default.isExecutableFile(atPath: url.path)
            files[relative] = .write(try Data(contentsOf: url), mode: executable ? .executable : .regular)
        }
        guard !files.isEmpty else { throw ControlRepositoryError.templateMissing(root.path) }
        return files
    }
}

extension ControlRepository {
    /// Creates a control repository at `directory` from the template: one commit on `main`, and
    /// devsys's hooks installed to call `devsysBinary`, and `receive.fsckObjects` on. With a work
    /// tree, the files are checked out.
    /// - Throws: `ControlRepositoryError.destinationNotEmpty` when `directory` holds anything;
    ///   `GitError` from libgit2.
    public static func initialize(
        at directory: URL,
        bare: Bool,
        template: RepositoryTemplate = RepositoryTemplate(),
        devsysBinary: String,
        author: Signature
    ) throws -> ControlRepository {
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard existing.isEmpty else { throw ControlRepositoryError.destinationNotEmpty(directory.path) }
        let files = try template.files()
        let repository = try Repository.create(at: directory.path, bare: bare, initialBranch: defaultTrunk)
        // A push of objects git fsck rejects (bad trees, odd modes, names) is refused at receive.
        try repository.setConfigValue("receive.fsckObjects", to: true)
        _ = try repository.commit(
            changes: files,
            onto: ControlRefs.branch(defaultTrunk),
            parent: nil,
            message: "Start a devsys control repository\n\nCreated by devsys init from the repository template.\n",
            author: author
        )
        if !bare {
            try repository.checkoutHead()
        }
        try HookInstaller(devsysBinary: devsysBinary).install(in: repository, force: false)
        return ControlRepository(repository)
    }
}
