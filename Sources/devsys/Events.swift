import Actions
import ArgumentParser
import Foundation
import Pipeline
import Store

extension Devsys {
    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the event log: every state change, job retry, deploy and failure, oldest first.",
            discussion: """
                One line per event: when, the task it concerns (- for the controller
                as a whole), its kind (task.state, job.retry, job.dead,
                deploy.succeeded, deploy.failed, …) and what happened. With --follow
                it keeps printing new events as the controller appends them, until
                Ctrl-C or SIGTERM.

                  devsys events                          the latest 100 events
                  devsys events --task 001-about-page    one task's history
                  devsys events --follow                 watch a running controller
                  devsys events --follow --json | jq -c 'select(.kind == "job.dead")'

                --json prints JSON lines: one object per event and line, with the
                keys id, at, task (null for the controller's own), kind, message
                and data.

                Exit status: 0 ok, 1 no control repository or state found.
                """
        )

        @OptionGroup var options: ControllerOptions

        @Option(help: ArgumentHelp("Only the events of this task.", valueName: "id"))
        var task: String?

        @Flag(help: "Keep printing new events until interrupted.")
        var follow = false

        @Flag(help: "Print one JSON object per event and line (JSON lines).")
        var json = false

        @Option(help: ArgumentHelp("How many of the latest events to print first.", valueName: "n"))
        var limit = 100

        /// How often --follow reads the store for new events.
        static let pollInterval: Duration = .milliseconds(200)

        func validate() throws {
            guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
        }

        func run() async throws {
            let (control, plane) = try options.openControlPlane()
            let actor = localPrincipal(control: control)
            let printer = EventPrinter(json: json)
            let latest = limit == 0 ? [] : try await plane.latestEvents(taskID: task, limit: limit, by: actor)
            printer.print(latest)
            // Without a limit's worth of history, follow from the newest event there is.
            var last = latest.last?.id ?? 0
            if latest.isEmpty { last = try await plane.latestEvents(limit: 1, by: actor).last?.id ?? 0 }
            guard follow else { return }

            let following = Task { [task, last] in
                var cursor = last
                while !Task.isCancelled {
                    let new = try await plane.events(after: cursor, taskID: task, limit: 500, by: actor)
                    printer.print(new)
                    cursor = new.last?.id ?? cursor
                    if new.count < 500 { try await Task.sleep(for: Self.pollInterval) }
                }
            }
            let signals = [SIGTERM, SIGINT].map { signalNumber in
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber)
                source.setEventHandler { following.cancel() }
                source.resume()
                return source
            }
            defer { for source in signals { source.cancel() } }
            do {
                try await following.value
            } catch is CancellationError {
                return
            }
        }
    }
}

/// Prints events as `devsys events` shows them, flushing after each batch so a pipe sees them at once.
struct EventPrinter: Sendable {
    var json: Bool

    /// An event as `--json` prints it.
    struct Line: Encodable {
        var id: Int64
        var at: String
        var task: String?
        var kind: String
        var message: String
        var data: [String: String]

        enum CodingKeys: String, CodingKey { case id, at, task, kind, message, data }

        /// Every key on every line, `"task": null` for the controller's own events, so jq filters need no defaults.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(at, forKey: .at)
            try container.encode(task, forKey: .task)
            try container.encode(kind, forKey: .kind)
            try container.encode(message, forKey: .message)
            try container.encode(data, forKey: .data)
        }
    }

    func print(_ events: [Event]) {
        guard !events.isEmpty else { return }
        var text = ""
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for event in events {
                let line = Line(id: event.id, at: isoTime(event.at), task: event.taskID, kind: event.kind, message: event.message, data: event.data)
                guard let data = try? encoder.encode(line) else { continue }
                text += String(decoding: data, as: UTF8.self) + "\n"
            }
        } else {
            for event in events {
                text += "\(localTime(event.at))  \(event.taskID ?? "-")  \(event.kind)  \(oneLine(event.message, limit: 400))\n"
            }
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
