import Foundation
import Probes
import TestSupport
import Testing

/// The probes deploy verification asks now and the monitor's checks next, against a real php -S.
@Suite struct ProbeTests {
    static func site() throws -> (folder: URL, server: PHPServer) {
        // php -S with the host kit's router serves `<app root>/current`.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("current"), withIntermediateDirectories: true)
        try Data("<?php header('X-Probe: yes'); echo 'hello ' . ($_SERVER['REQUEST_METHOD'] ?? '');\n".utf8)
            .write(to: folder.appendingPathComponent("current/index.php"))
        return (folder, try PHPServer(appRoot: folder.path))
    }

    @Test func anHTTPProbeReportsStatusHeadersBodyAndLatency() async throws {
        let (folder, server) = try Self.site()
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }
        let response = await HTTPProbe.fetch(server.url + "/index.php", method: "POST", timeout: .seconds(5))
        #expect(response.status == 200 && response.error == nil)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello POST")
        #expect(response.headers.contains { $0.name.lowercased() == "x-probe" && $0.value == "yes" })
        #expect(response.latencyMs >= 0 && response.latencyMs < 5000)

        let port = server.port
        server.stop()
        let refused = await HTTPProbe.fetch("http://127.0.0.1:\(port)/", timeout: .seconds(2))
        #expect(refused.status == nil && refused.error?.hasPrefix("could not connect") == true, "\(refused.error ?? "")")
    }

    @Test func aTCPProbeConnectsSendsAndWaitsForTheAnswer() async throws {
        let (folder, server) = try Self.site()
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }
        let open = await TCPProbe.check(host: "127.0.0.1", port: server.port, timeout: .seconds(2))
        #expect(open.passed && open.connected)

        let answered = await TCPProbe.check(
            host: "127.0.0.1",
            port: server.port,
            send: "GET /index.php HTTP/1.0\r\n\r\n",
            expect: "hello GET",
            timeout: .seconds(5)
        )
        #expect(answered.passed, "\(answered.failure ?? "")")
        #expect(answered.received.hasPrefix("HTTP/1.0 200"), "\(answered.received)")

        let silent = await TCPProbe.check(host: "127.0.0.1", port: server.port, expect: "SSH-2.0", timeout: .milliseconds(500))
        #expect(!silent.passed && silent.connected, "nothing was sent, so nothing came back within the time")
        #expect(silent.failure?.contains("did not answer 'SSH-2.0'") == true, "\(silent.failure ?? "")")

        let port = server.port
        server.stop()
        let closed = await TCPProbe.check(host: "127.0.0.1", port: port, timeout: .seconds(2))
        #expect(!closed.connected && closed.failure?.hasPrefix("could not connect to 127.0.0.1:\(port)") == true, "\(closed.failure ?? "")")
    }
}
