import CGit2

/// Process-wide libgit2 set-up, done once before the first repository is opened.
enum LibGit2 {
    private static let initialized: Void = {
        git_libgit2_init()
        // Strict object creation makes libgit2 re-read every object a new tree, commit or ref
        // points to — objects devsys has usually just written itself, which made up a quarter of
        // a commit's cost. The checks that matter for ids coming from callers are done where they
        // enter: `updateReference` checks its target exists, `createCommit` that its parents are
        // commits, and trees are only ever built from blobs and trees devsys wrote or read.
        _ = devsys_git_opts_set_int(Int32(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION.rawValue), 0)
        // libgit2 caches trees only up to 4 KiB by default, so a `specs/` tree of thousands of
        // folders was read, inflated and parsed again on every path lookup below it.
        _ = devsys_git_opts_set_cache_object_limit(GIT_OBJECT_TREE, 64 << 20)
    }()

    static func initialize() {
        _ = initialized
    }
}

/// The libgit2 this binary runs with, for `devsys doctor`.
public enum LibGit2Version {
    /// "1.5.1".
    public static var current: String {
        var (major, minor, revision): (Int32, Int32, Int32) = (0, 0, 0)
        git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}
