import Foundation
import Git
import Pipeline
import Store

/// A task waiting for review, as `devsys pr list` and `GET /api/v1/pulls` show it.
public struct PullRequestSummary: Sendable, Encodable {
    public var id: String
    public var title: String
    public var branch: String
    public var head: String?
    /// The latest report's summary; nil when there is none.
    public var tests: String?
    public var passed: Bool?
    public var approved: Bool
}

/// A task branch seen as a pull request (`devsys pr show`, `GET /api/v1/pulls/{id}`): what it
/// changes against the trunk, how its tests went, and the verdicts on its head.
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

    /// The view as JSON: the task, the files with their line counts and the diff, cut to `maxDiffLines`.
    public func output(maxDiffLines: Int, hint: String) -> Output {
        Output(
            task: TaskSummary(task),
            trunk: trunk,
            base: base?.hex,
            head: head.hex,
            files: files.map {
                Output.File(
                    path: $0.path,
                    oldPath: $0.oldPath,
                    status: $0.status.rawValue,
                    added: $0.isBinary ? nil : $0.added,
                    deleted: $0.isBinary ? nil : $0.deleted
                )
            },
            tests: tests?.summary,
            passed: tests?.passed,
            reviews: verdicts,
            approved: isApproved,
            diff: Self.cut(unifiedDiff, maxLines: maxDiffLines, hint: hint)
        )
    }

    /// `devsys pr show --json`, `GET /api/v1/pulls/{id}`.
    public struct Output: Sendable, Encodable {
        public struct File: Sendable, Encodable {
            public var path: String
            public var oldPath: String?
            public var status: String
            public var added: Int?
            public var deleted: Int?
        }

        public var task: TaskSummary
        public var trunk: String
        public var base: String?
        public var head: String
        public var files: [File]
        public var tests: String?
        public var passed: Bool?
        public var reviews: [String]
        public var approved: Bool
        public var diff: String
    }

    /// The diff cut after `maxLines` lines, with a hint to see the rest.
    public static func cut(_ diff: String, maxLines: Int, hint: String) -> String {
        let lines = diff.split(separator: "\n", omittingEmptySubsequences: false).dropLast(diff.hasSuffix("\n") ? 1 : 0)
        guard lines.count > maxLines else { return diff }
        return lines.prefix(maxLines).map { $0 + "\n" }.joined() + "… \(lines.count - maxLines) more lines: \(hint)\n"
    }
}
