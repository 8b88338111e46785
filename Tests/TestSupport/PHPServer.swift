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
    /// answers HTTP. A php that exits at once (the free port was taken meanwhile, by another test
    /// or another run on this machine) is started again on another port.
    /// With `port`, on that port only (a web server started again where it was).
    /// Throws `TestFailure` when it keeps exiting, or does not answer within 60 s.
    public init(appRoot: String, port fixedPort: Int? = nil) throws {
        var attempt = 0
        while true {
            attempt += 1
            let port = try fixedPort ?? SSHDServer.freePort()
            let process = try ChildProcess(
                "/usr/bin/php",
                ["-S", "127.0.0.1:\(port)", Self.routerPath],
                environment: ["DEVSYS_APP_ROOT": appRoot, "PATH": "/usr/bin:/bin"],
                output: .captured
            )
            // Generous: on a busy machine a starting php may wait long for a core; this bound is for a hang.
            let clock = ContinuousClock()
            let giveUp = clock.now + .seconds(60)
            while !TCPProbe.answersHTTP(address: "127.0.0.1", port: port) && !process.hasExited && clock.now < giveUp {
                Thread.sleep(forTimeInterval: 0.05)
            }
            if process.hasExited {
                let result = process.wait()
                if attempt < 5 { continue }
                throw TestFailure("php -S exited with status \(result.status) five times: \(result.stdout)\(result.stderr)")
            }
            guard clock.now < giveUp || TCPProbe.answersHTTP(address: "127.0.0.1", port: port) else {
                process.stop(signal: SIGKILL)
                throw TestFailure("php -S did not answer on http://127.0.0.1:\(port) within 60 s")
            }
            self.port = port
            self.url = "http://127.0.0.1:\(port)"
            self.process = process
            return
        }
    }

    public func stop() {
        // SIGKILL: php -S does not always end on SIGTERM.
        process.stop(signal: SIGKILL)
    }
}
