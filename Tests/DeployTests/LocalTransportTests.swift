import Foundation
import Hosts
import Testing

@testable import Deploy

@Suite("Local transport")
struct LocalTransportTests {
    @Test("streams stdin to the command and returns its status, stdout and stderr")
    func streamsInput() throws {
        let transport = LocalTransport(name: "dev1")
        let result = try transport.run("wc -c; echo oops >&2; exit 3", timeout: .seconds(10)) { write in
            // More than a socket buffer holds, so reading and writing must overlap.
            for _ in 0..<64 { try write(Data(repeating: 65, count: 16 * 1024)) }
        }
        #expect(result.status == 3)
        #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(64 * 16 * 1024)")
        #expect(result.stderrText == "oops\n")
    }

    @Test("a command past its timeout is stopped with its children")
    func timesOut() throws {
        let clock = ContinuousClock()
        let start = clock.now
        #expect(throws: HostTransportError.self) {
            try LocalTransport(name: "dev1").run("sleep 30 & sleep 30; wait", timeout: .milliseconds(300))
        }
        // Well short of the command's 30 s, with room for a busy machine's scheduling.
        #expect(clock.now - start < .seconds(20))
    }

    @Test("an input writer that fails stops the command and its error comes back")
    func failingWriterStopsCommand() throws {
        struct Broken: Error {}
        let folder = try TempFolder("transport")
        defer { folder.remove() }
        let marker = folder.path + "/finished"
        #expect(throws: Broken.self) {
            try LocalTransport().run("cat > /dev/null; touch \(q(marker))", timeout: .seconds(10)) { write in
                try write(Data("half".utf8))
                throw Broken()
            }
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
