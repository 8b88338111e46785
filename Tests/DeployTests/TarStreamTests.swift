import Foundation
import Git
import Testing

@testable import Deploy

@Suite("Tar stream of a git tree")
struct TarStreamTests {
    @Test("GNU tar extracts the stream to exactly the files git archive gives, in chunks of at most 64 KiB")
    func extractsLikeGitArchive() throws {
        let folder = try TempFolder("tar")
        defer { folder.remove() }
        let repo = try AppRepository(in: folder)
        let longFolder = String(repeating: "deep-folder-name/", count: 8)
        var big = ""
        for line in 0..<6000 { big += "line \(line) of a file larger than one chunk\n" }
        let commit = try repo.commit(
            [
                "README.md": "not shipped\n",
                "app/index.php": "<?php echo 'Blog';\n",
                "app/bin/run.sh": "#!/bin/sh\necho run\n",
                "app/empty.txt": "",
                "app/ünïcode café.txt": "unicode name\n",
                "app/\(longFolder)file-with-a-long-path.txt": "far down\n",
                "app/data/big.txt": big,
            ],
            symlinks: ["app/home.php": "index.php", "app/\(longFolder)up": String(repeating: "../", count: 8) + "index.php"],
            executables: ["app/bin/run.sh"]
        )

        var chunks: [Int] = []
        let archive = folder.path + "/app.tar"
        _ = FileManager.default.createFile(atPath: archive, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: archive))
        try TarStream.write(entries: repo.repository.tree(of: commit, under: "app"), stripping: "app", blob: repo.repository.blob) { chunk in
            chunks.append(chunk.count)
            try handle.write(contentsOf: chunk)
        }
        try handle.close()

        #expect(chunks.count > 3)
        #expect(chunks.allSatisfy { $0 <= 64 * 1024 })
        #expect(chunks.reduce(0, +) % 512 == 0)
        let listing = try sh("tar -tvf \(q(archive))")
        #expect(listing.contains("-rwxr-xr-x 0/0"))
        #expect(listing.contains("home.php -> index.php"))
        #expect(!listing.contains("README.md"))

        let extracted = folder.path + "/extracted"
        try sh("mkdir -p \(q(extracted)) && tar -x -f \(q(archive)) -C \(q(extracted))")
        let reference = try repo.archive(commit, into: folder.path + "/reference")
        #expect(try differences(reference, extracted) == "")
        #expect(try sh("stat -c %a \(q(extracted + "/bin/run.sh")) \(q(extracted + "/index.php"))") == "755\n644")
        #expect(try sh("readlink \(q(extracted + "/home.php"))") == "index.php")
    }

    @Test("paths that could leave the extraction folder are refused")
    func refusesEscapingPaths() {
        for path in ["../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "./a", ""] {
            #expect(throws: DeployError.self) { try TarStream.checked(path) }
        }
    }

    @Test("a pax record counts its own length")
    func paxRecordLength() {
        let record = TarStream.paxRecord(key: "path", value: String(repeating: "x", count: 95))
        #expect(record == "105 path=\(String(repeating: "x", count: 95))\n")
        #expect(record.utf8.count == 105)
    }
}
