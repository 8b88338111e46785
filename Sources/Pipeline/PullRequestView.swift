import Foundation
import Git
import Store

/// A task branch seen as a pull request (`devsys pr show`, the manager API): what it changes
/// against the trunk, how its tests went, and the verdicts on its head.
public struct PullRequestView: Sendable {
    public var task: TaskRecord
    /// The trunk's branch name.
    public var trunk: String
    /// The commit the branch shares with the trunk; nil for unrelated histories.
    public var base: ObjectID?
    /// The branch head as git has it now.
    public var head: ObjectID
    /// One patch per changed file, in path order; `unifiedDiff` is them all.
    public var files: [FilePatch]
    /// The latest test report of the head; nil when it has none.
    public var tests: StoredTestReport?
    /// The review note's lines on the head, oldest first.
    public var verdicts: [String]

    /// Whether the head, as it is now, carries an approval.
    public var isApproved: Bool { verdicts.contains { $0.hasPrefix("Approved-by:") } }

    /// Every file's patch, as `git diff <base> <head>` prints them.
    public var unifiedDiff: String { files.map(\.text).joined() }
}
