import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `php -S 127.0.0.1:<free port> deploy/php-router.php` with `DEVSYS_APP_ROOT`, stopped by `stop()`.
public final class PHPServer: @unchecked Sendable {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    public let url: String
    public let port: Int
    private let process: ChildProcess

    /// The repository's `deploy/php-router.php`.
    public static var routerPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/php-router.php").path
    }

    /// Starts php -S serving `appRoot` (the app folder holding `current`) and waits until it
    /// answers HTTP. Throws `TestFailure` when it does not within 10 s.
    public init(appRoot: String) throws {
        let port = try SSHDServer.freePort()
        self.port = port
        url = "http://127.0.0.1:\(port)"
        process = try ChildProcess(
            "/usr/bin/php",
            ["-S", "127.0.0.1:\(port)", Self.routerPath],
            environment: ["DEVSYS_APP_ROOT": appRoot, "PATH": "/usr/bin:/bin"]
        )
        // Generous: on a busy machine a starting php may wait long for a core; this bound is for a hang.
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(60)
        while !TCPProbe.answersHTTP(address: "127.0.0.1", port: port) {
            guard clock.now < giveUp, !process.hasExited else {
                stop()
                throw TestFailure("php -S did not answer on \(url) within 60 s")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    public func stop() {
        // SIGKILL: php -S does not always end on SIGTERM.
        process.stop(signal: SIGKILL)
    }
}
