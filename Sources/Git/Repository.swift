import CGit2
import Foundation

/// A git repository opened through libgit2, bare or with a work tree.
///
/// Owns the `git_repository` handle and the object database handle it reuses for every read and
/// write; both are freed when the value goes away. Not thread-safe: use one `Repository` per
/// thread or task (opening is cheap).
public final class Repository {
    let pointer: OpaquePointer
    let odb: OpaquePointer
    /// Made on the first write; see `LooseObjectWriter` for why writes bypass `odb`.
    private var looseWriter: LooseObjectWriter?
    /// Trees and commit → tree links devsys wrote or read lately. Objects never change, so these
    /// are never stale; they spare a commit on top of the last one from reading its parent back.
    var recentTrees = RecentObjects<[TreeItem]>()
    var recentCommitTrees = RecentObjects<ObjectID>()

    /// Takes ownership of an open `git_repository`, freeing it if the object database cannot be had.
    private init(owning pointer: OpaquePointer) throws {
        var odb: OpaquePointer?
        let code = git_repository_odb(&odb, pointer)
        guard code == 0, let odb else {
            let error = GitError.last(code, "git_repository_odb")
            git_repository_free(pointer)
            throw error
        }
        self.pointer = pointer
        self.odb = odb
    }

    deinit {
        git_odb_free(odb)
        git_repository_free(pointer)
    }

    // MARK: Opening

    /// Creates a repository at `path` (folders made as needed) with HEAD on `initialBranch`.
    /// Throws `GitError` when the folder cannot be created or initialised.
    public static func create(at path: String, bare: Bool, initialBranch: String = "main") throws -> Repository {
        LibGit2.initialize()
        var options = git_repository_init_options()
        try check(
            git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)),
            "git_repository_init_options_init"
        )
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue | (bare ? GIT_REPOSITORY_INIT_BARE.rawValue : 0)
        var handle: OpaquePointer?
        let code = initialBranch.withCString { branch in
            options.initial_head = branch
            return git_repository_init_ext(&handle, path, &options)
        }
        try check(code, "git_repository_init_ext")
        guard let handle else { throw GitError.missingResult("git_repository_init_ext") }
        return try Repository(owning: handle)
    }

    /// Opens the repository at exactly `path`: a `.git` folder, a bare repository or a work tree.
    ///
    /// Inside git's pre-receive quarantine (`GIT_QUARANTINE_PATH`, `GIT_OBJECT_DIRECTORY`,
    /// `GIT_ALTERNATE_OBJECT_DIRECTORIES` set), those object folders are added as alternates so the
    /// objects being pushed can be read. Throws `GitError` (`.notFound` when there is no repository).
    public static func open(at path: String) throws -> Repository {
        try open(at: path, environment: ProcessInfo.processInfo.environment)
    }

    /// `open(at:)` reading the quarantine variables from `environment` instead of the process's.
    public static func open(at path: String, environment: [String: String]) throws -> Repository {
        LibGit2.initialize()
        var handle: OpaquePointer?
        try check(git_repository_open_ext(&handle, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil), "git_repository_open_ext")
        guard let handle else { throw GitError.missingResult("git_repository_open_ext") }
        let repository = try Repository(owning: handle)
        try repository.addQuarantineAlternates(from: environment)
        return repository
    }

    /// Opens the repository containing `path`, walking up the folders like git does (stopping at
    /// `GIT_CEILING_DIRECTORIES`). Quarantine variables are honoured as in `open(at:)`.
    /// Throws `GitError` (`.notFound` when no folder above is a repository).
    public static func discover(from path: String) throws -> Repository {
        try discover(from: path, environment: ProcessInfo.processInfo.environment)
    }

    /// `discover(from:)` reading the git variables from `environment` instead of the process's.
    public static func discover(from path: String, environment: [String: String]) throws -> Repository {
        LibGit2.initialize()
        var handle: OpaquePointer?
        try check(git_repository_open_ext(&handle, path, 0, environment["GIT_CEILING_DIRECTORIES"]), "git_repository_open_ext")
        guard let handle else { throw GitError.missingResult("git_repository_open_ext") }
        let repository = try Repository(owning: handle)
        try repository.addQuarantineAlternates(from: environment)
        return repository
    }

    /// git's receive-pack writes pushed objects to a temporary folder and tells hooks where it is;
    /// libgit2 reads no environment, so we add those folders ourselves.
    private func addQuarantineAlternates(from environment: [String: String]) throws {
        var folders: [String] = []
        for key in ["GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY"] {
            if let value = environment[key], !value.isEmpty { folders.append(value) }
        }
        if let list = environment["GIT_ALTERNATE_OBJECT_DIRECTORIES"] {
            folders += list.split(separator: ":").map(String.init)
        }
        guard !folders.isEmpty else { return }
        let current = FileManager.default.currentDirectoryPath
        var seen: Set<String> = [gitDirectory.appendingPathComponent("objects").standardizedFileURL.path]
        for folder in folders {
            let url = folder.hasPrefix("/") ? URL(fileURLWithPath: folder) : URL(fileURLWithPath: current).appendingPathComponent(folder)
            let absolute = url.standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue,
                seen.insert(absolute).inserted
            else { continue }
            try check(git_odb_add_disk_alternate(odb, absolute), "git_odb_add_disk_alternate")
        }
    }

    /// The writer for new objects, made on first use.
    func objectWriter() throws -> LooseObjectWriter {
        if let looseWriter { return looseWriter }
        // The common folder holds the objects of linked work trees too.
        let common = git_repository_commondir(pointer).map { String(cString: $0) } ?? gitDirectory.path + "/"
        let writer = try LooseObjectWriter(objectsDirectory: (common.hasSuffix("/") ? common : common + "/") + "objects")
        looseWriter = writer
        return writer
    }

    // MARK: Where it is

    /// True for a repository without a work tree.
    public var isBare: Bool { git_repository_is_bare(pointer) == 1 }

    /// The git folder: the `.git` folder of a work tree, or the bare repository itself.
    public var gitDirectory: URL {
        URL(fileURLWithPath: git_repository_path(pointer).map { String(cString: $0) } ?? "", isDirectory: true)
    }

    /// The work tree; nil for a bare repository.
    public var workingDirectory: URL? {
        git_repository_workdir(pointer).map { URL(fileURLWithPath: String(cString: $0), isDirectory: true) }
    }

    // MARK: Handles

    /// Runs a libgit2 constructor and returns the object it made; the caller frees it in a `defer`
    /// on the next line. Throws `GitError` for `function` when the constructor fails.
    func make(_ function: String, _ create: (UnsafeMutablePointer<OpaquePointer?>) -> Int32) throws -> OpaquePointer {
        var handle: OpaquePointer?
        try check(create(&handle), function)
        guard let handle else { throw GitError.missingResult(function) }
        return handle
    }

    func withCommit<T>(_ id: ObjectID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var oid = id.oid
        let commit = try make("git_commit_lookup") { git_commit_lookup($0, pointer, &oid) }
        defer { git_commit_free(commit) }
        return try body(commit)
    }

    func withTree<T>(_ id: ObjectID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var oid = id.oid
        let tree = try make("git_tree_lookup") { git_tree_lookup($0, pointer, &oid) }
        defer { git_tree_free(tree) }
        return try body(tree)
    }

    func withObject<T>(_ id: ObjectID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var oid = id.oid
        let object = try make("git_object_lookup") { git_object_lookup($0, pointer, &oid, GIT_OBJECT_ANY) }
        defer { git_object_free(object) }
        return try body(object)
    }

    /// The tree of a commit, or nil for nil (the empty tree of a root commit's parent).
    func withOptionalTree<T>(ofTree id: ObjectID?, _ body: (OpaquePointer?) throws -> T) throws -> T {
        guard let id else { return try body(nil) }
        return try withTree(id) { try body($0) }
    }
}

extension GitError {
    /// libgit2 reported success but handed back nothing.
    static func missingResult(_ function: String) -> GitError {
        GitError(code: GIT_ERROR.rawValue, message: "returned no object", function: function)
    }
}
