import ArgumentParser
import ControlRepository
import Foundation
import Git
import Pipeline
import Specs
import Store

extension Devsys {
    struct PullRequests: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pr",
            abstract: "Review task branches like pull requests: list, show, approve, merge, reject.",
            discussion: """
                A task whose tests passed waits in review; its branch task/<id> is the pull request.
                Verdicts are kept in git, as lines of the note on the reviewed head in
                refs/notes/devsys/reviews (git notes --ref=devsys/reviews show task/<id>).

                  devsys pr list                              what waits for review
                  devsys pr show 001-about-page               changed files, diff, tests, verdicts
                  devsys pr approve 001-about-page
                  devsys pr merge 001-about-page              a merge commit on the trunk
                  devsys pr reject 001-about-page --reason "the page needs a title"

                Plain git works too: merging task/<id> into the trunk and pushing marks the task merged.
                """,
            subcommands: [List.self, Show.self, Approve.self, Merge.self, Reject.self]
        )

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List the tasks waiting for review.",
                discussion: """
                    One line per task in review: its branch head, its test summary and whether it
                    is approved.

                      devsys pr list
                      devsys pr list --json
                    """
            )

            @OptionGroup var options: ControllerOptions

            @Flag(help: "Print the list as JSON.")
            var json = false

            func run() throws {
                let (control, state, store) = try options.openStore()
                let reviews = Reviews(repositoryPath: options.repositoryPath(of: control), store: store)
                var rows: [PullRequestOutput] = []
                for task in try store.tasks(states: [.review]) {
                    let head = task.branchHead.flatMap(ObjectID.init(hex:))
                    let report = head.flatMap {
                        try? StoredTestReport.latest(for: $0, in: control.repository, reportsFolder: state.reportsFolder(taskID: task.id))
                    }
                    rows.append(
                        PullRequestOutput(
                            id: task.id,
                            title: task.title,
                            branch: "task/\(task.id)",
                            head: task.branchHead,
                            tests: report?.summary,
                            passed: report?.passed,
                            approved: try head.map { try reviews.isApproved($0) } ?? false
                        )
                    )
                }
                if json { return try printJSON(rows) }
                guard !rows.isEmpty else { return print("no task waits for review") }
                var table = TextTable(["ID", "HEAD", "TESTS", "APPROVED", "TITLE"])
                for row in rows {
                    table.add([
                        row.id, row.head.map(shortHex) ?? "-", row.tests.map { oneLine($0, limit: 50) } ?? "no report",
                        row.approved ? "yes" : "no", row.title,
                    ])
                }
                print(table.text, terminator: "")
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a task branch against the trunk: files, diff, tests and verdicts.",
                discussion: """
                    Compares task/<id> with the commit it shares with the trunk (like
                    git diff main...task/<id>). Text files are shown as a unified diff, cut after
                    --max-lines lines; binary and large files are named only.

                      devsys pr show 001-about-page
                      devsys pr show 001-about-page --json
                    """
            )

            @OptionGroup var options: ControllerOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            @Option(help: ArgumentHelp("Show at most this many lines of diff.", valueName: "n"))
            var maxLines = 2000

            @Flag(help: "Print the pull request as JSON (the diff as one string).")
            var json = false

            func validate() throws {
                guard maxLines > 0 else { throw ValidationError("--max-lines must be positive") }
            }

            func run() throws {
                let (control, state, store) = try options.openStore()
                let task = try findTask(id, in: store)
                let repository = control.repository
                guard let head = try repository.reference(named: "refs/heads/task/\(id)") ?? task.branchHead.flatMap(ObjectID.init(hex:)) else {
                    throw CommandFailure("task \(id) has no branch task/\(id) yet (it is \(task.state.rawValue)); nothing to review")
                }
                let trunk = try control.trunkCommit()
                let base = try repository.mergeBase(trunk.commit, head)
                let changes = try repository.diff(from: base, to: head).sorted { $0.path < $1.path }
                let patches = try changes.map { try FilePatch($0, in: repository) }
                let report = try? StoredTestReport.latest(for: head, in: repository, reportsFolder: state.reportsFolder(taskID: id))
                let verdicts = try repository.note(on: head, notesRef: Reviews.notesRef)?.split(separator: "\n").map(String.init) ?? []
                let diff = FilePatch.text(of: patches, maxLines: maxLines, hint: "git diff \(trunk.branch)...task/\(id)")

                if json {
                    return try printJSON(
                        PullRequestShowOutput(
                            task: TaskOutput(task),
                            trunk: trunk.branch,
                            base: base?.hex,
                            head: head.hex,
                            files: patches.map { .init(path: $0.change.path, status: $0.status, added: $0.added, deleted: $0.deleted) },
                            tests: report?.summary,
                            passed: report?.passed,
                            reviews: verdicts,
                            approved: verdicts.contains { $0.hasPrefix("Approved-by:") },
                            diff: diff
                        )
                    )
                }
                var out = "task/\(id) → \(trunk.branch): \(task.title)\n"
                out +=
                    "  state \(task.state.rawValue), head \(shortHex(head.hex)), base \(base.map { shortHex($0.hex) } ?? "none (unrelated histories)")\n"
                out += "  tests    " + (report.map { "\($0.passed ? "passed" : "FAILED"): \($0.summary)" } ?? "no report") + "\n"
                out +=
                    "  reviews  " + (verdicts.isEmpty ? "none yet (devsys pr approve \(id))" : verdicts.joined(separator: "\n           ")) + "\n\n"
                if patches.isEmpty {
                    out += "no changes against \(trunk.branch)\n"
                } else {
                    var stat = TextTable()
                    for patch in patches {
                        stat.add([
                            " \(patch.status.prefix(1).uppercased())", patch.change.path,
                            patch.added.map { "+\($0) -\(patch.deleted ?? 0)" } ?? "binary",
                        ])
                    }
                    out += stat.text
                    out += " \(patches.count) file\(patches.count == 1 ? "" : "s") changed\n\n" + diff
                }
                print(out, terminator: "")
            }
        }

        struct Approve: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Approve a task's tested branch head.",
                discussion: """
                    Adds 'Approved-by: NAME at TIME' to the note on the head in refs/notes/devsys/reviews.
                    NAME is GIT_AUTHOR_NAME (else "devsys"). An approval is of that head: a new commit
                    on the branch needs a new one.

                      devsys pr approve 001-about-page
                    """
            )

            @OptionGroup var options: ControllerOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            func run() throws {
                let (control, _, store) = try options.openStore()
                let task = try findTask(id, in: store)
                let reviewer = actingSignature().name
                try Reviews(repositoryPath: options.repositoryPath(of: control), store: store).approve(task, reviewer: reviewer)
                print("approved task/\(id) at \(task.branchHead.map(shortHex) ?? "?") as \(reviewer); merge it with: devsys pr merge \(id)")
            }
        }

        struct Merge: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Merge a task branch into the trunk.",
                discussion: """
                    Makes a merge commit of task/<id> on the trunk (moved with compare-and-swap, so a
                    concurrent push is never lost). With 'review: required' in the spec the head
                    needs an approval first. On conflicts nothing is merged: the task goes back to
                    coding with the conflicting paths as feedback, and this exits 1.

                      devsys pr approve 001-about-page && devsys pr merge 001-about-page
                    """
            )

            @OptionGroup var options: ControllerOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            func run() throws {
                let (control, state, store) = try options.openStore()
                let task = try findTask(id, in: store)
                let path = options.repositoryPath(of: control)
                guard task.state == .review else {
                    throw CommandFailure("task \(id) is \(task.state.rawValue); only a task in review can be merged ('devsys pr list' shows them)")
                }
                guard let head = task.branchHead.flatMap(ObjectID.init(hex:)) else { throw CommandFailure("task \(id) has no branch task/\(id) yet") }
                if try reviewPolicy(of: id, in: control) == .required, try !Reviews(repositoryPath: path, store: store).isApproved(head) {
                    throw CommandFailure("task \(id) needs an approval first: devsys pr approve \(id)")
                }
                let actor = actingSignature().name
                switch try TaskMerger(repositoryPath: path, store: store).merge(task, actor: actor) {
                case .merged(let commit):
                    let trunk = try control.trunkCommit().branch
                    print("merged task/\(id) into \(trunk): \(commit.hex)")
                    _ = NotifySocket.send(to: state.notifySocket)
                case .conflicts(let paths):
                    _ = NotifySocket.send(to: state.notifySocket)
                    throw CommandFailure(
                        "task/\(id) conflicts with the trunk in \(paths.joined(separator: ", ")); nothing was merged, the task went back to coding with the conflicts as feedback"
                    )
                }
            }

            /// The spec's `review:` on the trunk; `required` when the spec cannot be read.
            private func reviewPolicy(of id: String, in control: ControlRepository) throws -> TaskSpec.Review {
                let trunk = try control.trunkCommit()
                return try control.specs(named: [id], at: trunk.commit).specs.first?.spec?.review ?? .required
            }
        }

        struct Reject: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Reject a task's branch; the task ends rejected with your reason.",
                discussion: """
                    Adds 'Rejected-by: NAME at TIME: REASON' to the note on the head in
                    refs/notes/devsys/reviews. 'devsys task retry ID' starts the task again with the
                    reason as the coding agent's feedback.

                      devsys pr reject 001-about-page --reason "the page needs a title"
                    """
            )

            @OptionGroup var options: ControllerOptions

            @Argument(help: ArgumentHelp("The task id (its folder under specs/).", valueName: "id"))
            var id: String

            @Option(
                help: ArgumentHelp("Why the branch is rejected (required; kept in git and shown to the coding agent on retry).", valueName: "text")
            )
            var reason: String?

            func validate() throws {
                guard let reason, !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw ValidationError("reject needs --reason TEXT: say what is wrong, for the record and for a retry")
                }
            }

            func run() throws {
                let (control, _, store) = try options.openStore()
                let task = try findTask(id, in: store)
                let reviewer = actingSignature().name
                try Reviews(repositoryPath: options.repositoryPath(of: control), store: store).reject(task, reviewer: reviewer, reason: reason ?? "")
                print("rejected task/\(id) at \(task.branchHead.map(shortHex) ?? "?") as \(reviewer)")
            }
        }
    }
}

/// A line of `devsys pr list --json`.
struct PullRequestOutput: Encodable {
    var id: String
    var title: String
    var branch: String
    var head: String?
    var tests: String?
    var passed: Bool?
    var approved: Bool
}

/// `devsys pr show --json`.
struct PullRequestShowOutput: Encodable {
    struct File: Encodable {
        var path: String
        var status: String
        var added: Int?
        var deleted: Int?
    }

    var task: TaskOutput
    var trunk: String
    var base: String?
    var head: String
    var files: [File]
    var tests: String?
    var passed: Bool?
    var reviews: [String]
    var approved: Bool
    var diff: String
}

/// One changed file of a pull request, with its unified diff when both sides are text.
struct FilePatch {
    /// Files larger than this are named, not diffed.
    static let maxBytes = 512 * 1024

    var change: TreeChange
    /// The diff lines (`@@` headers and ` `/`+`/`-` lines), or why there is none.
    var body: Result<[String], Unshown>
    var added: Int?
    var deleted: Int?

    enum Unshown: Error {
        case binary, large, tooDifferent
    }

    var status: String {
        switch change.status {
        case .added: "added"
        case .modified: "modified"
        case .deleted: "deleted"
        }
    }

    init(_ change: TreeChange, in repository: Repository) throws {
        self.change = change
        let old = try change.oldID.map { try repository.blob($0) } ?? Data()
        let new = try change.newID.map { try repository.blob($0) } ?? Data()
        guard old.count <= Self.maxBytes, new.count <= Self.maxBytes else {
            body = .failure(.large)
            return
        }
        guard let oldText = Self.text(old), let newText = Self.text(new) else {
            body = .failure(.binary)
            return
        }
        guard let hunks = LineDiff.unified(old: oldText, new: newText) else {
            body = .failure(.tooDifferent)
            return
        }
        body = .success(hunks)
        added = hunks.filter { $0.hasPrefix("+") }.count
        deleted = hunks.filter { $0.hasPrefix("-") }.count
    }

    /// The data as text, or nil when it looks binary (a NUL byte, or not UTF-8).
    private static func text(_ data: Data) -> String? {
        if data.prefix(8000).contains(0) { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// `diff --git` sections for every patch, cut after `maxLines` lines with a hint to see the rest.
    static func text(of patches: [FilePatch], maxLines: Int, hint: String) -> String {
        var lines: [String] = []
        for patch in patches {
            let path = patch.change.path
            lines.append("diff --git a/\(path) b/\(path)")
            switch patch.change.status {
            case .added: lines.append("new file")
            case .deleted: lines.append("deleted file")
            case .modified: break
            }
            switch patch.body {
            case .success(let hunks):
                lines.append(patch.change.status == .added ? "--- /dev/null" : "--- a/\(path)")
                lines.append(patch.change.status == .deleted ? "+++ /dev/null" : "+++ b/\(path)")
                lines += hunks
            case .failure(.binary): lines.append("Binary files differ")
            case .failure(.large): lines.append("Large file (over \(maxBytes / 1024) KB); not shown")
            case .failure(.tooDifferent): lines.append("Too many changes to show here")
            }
        }
        guard lines.count > maxLines else { return lines.map { $0 + "\n" }.joined() }
        return lines.prefix(maxLines).map { $0 + "\n" }.joined() + "… \(lines.count - maxLines) more lines: \(hint)\n"
    }
}

/// A line diff (Myers' O(ND) algorithm) printed as unified-diff hunks with 3 lines of context.
enum LineDiff {
    enum Edit: Equatable {
        case same(old: Int, new: Int)
        case delete(old: Int)
        case insert(new: Int)
    }

    /// Beyond this many inserted plus deleted lines, no diff is made (its memory grows as the square).
    static let maxEdits = 4000

    /// The hunks turning `old` into `new`; empty when they are equal, nil when they differ in more
    /// than `maxEdits` lines. A last line without a newline is followed by git's marker.
    static func unified(old: String, new: String, context: Int = 3) -> [String]? {
        let a = lines(old)
        let b = lines(new)
        guard let edits = edits(a, b) else { return nil }
        let changed = edits.indices.filter { if case .same = edits[$0] { false } else { true } }
        guard !changed.isEmpty else { return [] }

        // Lines of old and new before each edit, to number the hunks.
        var oldBefore = [0]
        var newBefore = [0]
        for edit in edits {
            switch edit {
            case .same:
                oldBefore.append(oldBefore.last! + 1)
                newBefore.append(newBefore.last! + 1)
            case .delete:
                oldBefore.append(oldBefore.last! + 1)
                newBefore.append(newBefore.last!)
            case .insert:
                oldBefore.append(oldBefore.last!)
                newBefore.append(newBefore.last! + 1)
            }
        }

        var ranges: [Range<Int>] = []
        for index in changed {
            let range = max(0, index - context)..<min(edits.count, index + context + 1)
            if let last = ranges.last, range.lowerBound <= last.upperBound {
                ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
            } else {
                ranges.append(range)
            }
        }

        var out: [String] = []
        for range in ranges {
            let oldCount = oldBefore[range.upperBound] - oldBefore[range.lowerBound]
            let newCount = newBefore[range.upperBound] - newBefore[range.lowerBound]
            let oldStart = oldCount == 0 ? oldBefore[range.lowerBound] : oldBefore[range.lowerBound] + 1
            let newStart = newCount == 0 ? newBefore[range.lowerBound] : newBefore[range.lowerBound] + 1
            out.append("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@")
            for edit in edits[range] {
                let (mark, line): (String, Substring) =
                    switch edit {
                    case .same(let index, _): (" ", a[index])
                    case .delete(let index): ("-", a[index])
                    case .insert(let index): ("+", b[index])
                    }
                if line.hasSuffix("\n") {
                    out.append(mark + line.dropLast())
                } else {
                    out.append(mark + line)
                    out.append("\\ No newline at end of file")
                }
            }
        }
        return out
    }

    /// The lines of `text`, each with its newline (the last may have none).
    static func lines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        var start = text.startIndex
        while start < text.endIndex {
            let end = text[start...].firstIndex(of: "\n").map { text.index(after: $0) } ?? text.endIndex
            lines.append(text[start..<end])
            start = end
        }
        return lines
    }

    /// The shortest edit script from `a` to `b`, or nil beyond `maxEdits`.
    static func edits(_ a: [Substring], _ b: [Substring]) -> [Edit]? {
        let n = a.count
        let m = b.count
        let limit = min(n + m, maxEdits)
        // v[k + offset]: the furthest x reached on diagonal k; trace[d] keeps v for k in -d...d
        // as it was before round d, for walking back.
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        var trace: [[Int]] = []
        for d in 0...limit {
            trace.append(Array(v[(offset - d)...(offset + d)]))
            for k in stride(from: -d, through: d, by: 2) {
                var x = (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])) ? v[offset + k + 1] : v[offset + k - 1] + 1
                var y = x - k
                while x < n, y < m, a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n, y >= m { return backtrack(trace: trace, n: n, m: m) }
            }
        }
        return nil
    }

    private static func backtrack(trace: [[Int]], n: Int, m: Int) -> [Edit] {
        var edits: [Edit] = []
        var x = n
        var y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            guard d > 0 else {
                while x > 0, y > 0 {
                    edits.append(.same(old: x - 1, new: y - 1))
                    x -= 1
                    y -= 1
                }
                break
            }
            let v = trace[d]
            func at(_ k: Int) -> Int { v[k + d] }
            let k = x - y
            let previousK = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? k + 1 : k - 1
            let previousX = at(previousK)
            let previousY = previousX - previousK
            while x > previousX, y > previousY {
                edits.append(.same(old: x - 1, new: y - 1))
                x -= 1
                y -= 1
            }
            if x == previousX {
                edits.append(.insert(new: y - 1))
            } else {
                edits.append(.delete(old: x - 1))
            }
            x = previousX
            y = previousY
        }
        return edits.reversed()
    }
}
