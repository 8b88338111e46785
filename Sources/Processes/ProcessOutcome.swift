import Foundation

/// How a child process run by `ProcessRunner` ended, with what it printed.
public struct ProcessOutcome: Sendable, Hashable {
    public enum Termination: Sendable, Hashable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it (SIGTERM or SIGKILL when devsys stopped it at the timeout).
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signaled(let signal): "killed by signal \(signal)\(ProcessOutcome.signalName(signal).map { " (\($0))" } ?? "")"
            }
        }
    }

    public var termination: Termination
    /// The timeout was reached and devsys stopped the process group.
    public var timedOut: Bool
    public var stdout: CapturedOutput
    public var stderr: CapturedOutput
    /// From the start of the process until it ended and its output was read.
    public var duration: Duration
    /// The kernel killed a process of its sandbox for going over the memory limit.
    public var memoryExceeded: Bool

    public init(
        termination: Termination,
        timedOut: Bool,
        stdout: CapturedOutput,
        stderr: CapturedOutput,
        duration: Duration,
        memoryExceeded: Bool = false
    ) {
        self.termination = termination
        self.timedOut = timedOut
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
        self.memoryExceeded = memoryExceeded
    }

    /// Exited with status 0 before the timeout.
    public var succeeded: Bool { termination == .exited(0) && !timedOut }

    /// "exit status 2", "timed out after 5 s (killed by signal 15 (SIGTERM))".
    public func describe(timeout: Duration?) -> String {
        guard timedOut else { return termination.description }
        let limit = timeout.map { " after \(ProcessOutcome.seconds($0))" } ?? ""
        return "timed out\(limit) (\(termination))"
    }

    /// "90 s", "1.5 s": a duration as messages say it.
    public static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }

    static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        case SIGINT: "SIGINT"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGPIPE: "SIGPIPE"
        case SIGHUP: "SIGHUP"
        case SIGXFSZ: "SIGXFSZ, a file over the size limit"
        default: nil
        }
    }
}
