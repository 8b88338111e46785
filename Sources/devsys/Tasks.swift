import Actions
import ArgumentParser
import Foundation
import Pipeline
import Store

extension Devsys {
    struct Tasks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tasks and where each one is.",
            discussion: """
                One line per task: its state (queued, coding, testing, review, merged, failed,
                rejected, cancelled…), the attempt it is on, the head of its branch task/<id>,
                when it last changed, and why it is where it is.

                  devsys tasks                           every task
                  devsys tasks --state-filter review     the tasks waiting for a reviewer
                  devsys tasks --state-filter failed --state-filter rejected
                  devsys tasks --json                    for scripts

                'devsys task show ID' tells one task's whole story.
                """
        )

        @OptionGroup var options: ControllerOptions

        @Option(
            name: .customLong("state-filter"),
            help: ArgumentHelp("Only tasks in this state (repeat for several).", valueName: "state")
        )
        var stateFilter: [TaskState] = []

        @Option(help: ArgumentHelp("Only tasks whose spec carries this tag.", valueName: "tag"))
        var tag: String?

        @Option(help: ArgumentHelp("Only tasks of this app.", valueName: "app"))
        var app: String?

        @Flag(help: "Print the tasks as JSON.")
        var json = false

        func run() async throws {
            let (control, plane) = try options.openControlPlane()
            let filter = ControlPlane.TaskFilter(states: Set(stateFilter), tag: tag, app: app, limit: .max)
            let tasks = try await plane.tasks(filter, by: localPrincipal(control: control)).tasks
            if json { return try printJSON(tasks) }
            guard !tasks.isEmpty else {
                if stateFilter.isEmpty, tag == nil, app == nil {
                    print("no tasks yet: commit specs/<id>/task.yaml to the trunk, then run 'devsys run --until-idle'")
                } else {
                    let states = stateFilter.map(\.rawValue).joined(separator: " or ")
                    print(tag == nil && app == nil ? "no task is \(states)" : "no task matches")
                }
                return
            }
            print(TaskTable(tasks).text, terminator: "")
        }
    }
}

extension TaskState: ExpressibleByArgument {}

/// The task table of `devsys tasks` and `devsys reindex`.
struct TaskTable {
    var text: String

    init(_ tasks: [TaskSummary]) {
        var table = TextTable(["ID", "STATE", "ATTEMPT", "HEAD", "UPDATED", "REASON"])
        for task in tasks {
            table.add([
                task.id, task.state, "\(task.attempt)/\(task.maxAttempts)", task.branchHead.map(shortHex) ?? "-",
                localTime(task.updatedAt), task.reason.map { oneLine($0, limit: 80) } ?? "",
            ])
        }
        text = table.text
    }
}

/// Left-aligned columns separated by two spaces, under an optional header row; the last column
/// is not padded.
struct TextTable {
    private var rows: [[String]] = []

    init(_ headers: [String] = []) {
        if !headers.isEmpty { rows.append(headers) }
    }

    mutating func add(_ row: [String]) {
        rows.append(row)
    }

    var text: String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }.joined()
    }
}

/// The first 12 hex digits of a commit id, as devsys's messages show them.
func shortHex(_ hex: String) -> String { String(hex.prefix(12)) }

/// `2026-05-01 14:03`, in the local time zone.
func localTime(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return formatter.string(from: date)
}

/// `2026-05-01T12:03:00Z`, for JSON.
func isoTime(_ date: Date) -> String {
    ISO8601DateFormatter().string(from: date)
}

/// The text on one line, cut at `limit` characters with an ellipsis.
func oneLine(_ text: String, limit: Int) -> String {
    let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
    return flat.count <= limit ? flat : String(flat.prefix(limit - 1)) + "…"
}
