import ArgumentParser
import Foundation
import Logging

/// `--log-format`: how `serve` and `run` write their log on stderr.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    /// `[12:00:01] coding 001-about-page started (job 3, lease 1)`, for a terminal.
    case text
    /// One JSON object per line (`time`, `level`, `message`, then the metadata: `task`, `job`,
    /// `step`, `env`, `host`…), for a log shipper such as Vector, Promtail or Fluent Bit.
    case json

    /// Makes every logger of the process write in this format, from `level` up.
    func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: self, logLevel: level) }
    }
}

/// `--log-format`, `--log-level`, shared by `serve` and `run`.
struct LogOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How the log on stderr reads: text (for people) or json (one object per line).", valueName: "format"))
    var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("The least severe messages logged: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: LoggerLevelArgument = .init(.info)

    /// Sets up the process's logging and returns the controller's logger.
    func makeLogger() -> Logger {
        logFormat.bootstrap(level: logLevel.level)
        return Logger(label: "devsys")
    }
}

struct LoggerLevelArgument: ExpressibleByArgument {
    var level: Logger.Level

    init(_ level: Logger.Level) { self.level = level }

    init?(argument: String) {
        guard let level = Logger.Level(rawValue: argument) else { return nil }
        self.level = level
    }

    var defaultValueDescription: String { level.rawValue }

    static var allValueStrings: [String] { Logger.Level.allCases.map(\.rawValue) }
}

/// One line on stderr per message, in `format`:
/// - text: the time, `warning:`/`error:` where it is one, the message; the metadata as `key=value`
///   only at debug (devsys's own keys are already in the message);
/// - json: `{"level":"info","message":"…","task":"001-about-page","time":"2026-…"}`.
struct LineLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let line: Data?
        switch format {
        case .text: line = Data(text(event, metadata: all).utf8)
        case .json: line = json(event, metadata: all)
        }
        guard let line else { return }
        FileHandle.standardError.write(line + Data("\n".utf8))
    }

    private func text(_ event: LogEvent, metadata: Logger.Metadata) -> String {
        let time = Date().formatted(.iso8601.time(includingFractionalSeconds: false))
        let severity = event.level >= .warning ? "\(event.level.rawValue): " : ""
        var line = "[\(time)] \(severity)\(event.message)"
        if logLevel <= .debug, !metadata.isEmpty {
            line += " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        return line
    }

    private func json(_ event: LogEvent, metadata: Logger.Metadata) -> Data? {
        var object = metadata.mapValues { "\($0)" }
        object["time"] = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
        object["level"] = event.level.rawValue
        object["message"] = "\(event.message)"
        object["logger"] = label
        object["source"] = event.source
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try? encoder.encode(object)
    }
}
