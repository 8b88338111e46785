import CGit2
import Foundation

extension Repository {
    /// Makes the work tree and the index match HEAD, overwriting local changes (like
    /// `git checkout --force HEAD`). Used right after writing a commit without a work tree.
    /// Throws `GitError` (`.other` for a bare repository, with libgit2's message).
    public func checkoutHead() throws {
        var options = git_checkout_options()
        try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue
        try check(git_checkout_head(pointer, &options), "git_checkout_head")
    }
}
