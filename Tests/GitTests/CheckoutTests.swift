import Foundation
import Git
import Testing

@Suite("Checkout into a folder")
struct CheckoutTests {
    @Test("a name that is not UTF-8 is refused by name, never written as another name; a large blob is streamed")
    func namesAreKeptOrRefused() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.gitInit("work")
        let odd = Data("caf".utf8) + Data([0xE9]) + Data(".txt".utf8)
        let folder = URL(fileURLWithPath: path).appendingPathComponent("app")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Made through a C path of raw bytes: Swift strings cannot hold the byte 0xE9 alone.
        let raw = Array(folder.path.utf8) + [UInt8(ascii: "/")] + Array(odd) + [0]
        let descriptor = raw.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) } }
        #expect(descriptor >= 0)
        close(descriptor)
        let big = Data(repeating: 0x61, count: 9 << 20)
        try big.write(to: folder.appendingPathComponent("big.bin"))
        let commit = try scratch.gitCommitAll("odd name", in: path, second: 1)
        let repository = try Repository.open(at: path)

        let error = gitError { try repository.checkout(commit, into: scratch.url("out")) }
        #expect(error?.kind == .invalidPath)
        #expect(error?.message.contains("app/caf\\xE9.txt") == true, "\(error?.message ?? "")")
        #expect(gitError { _ = try repository.tree(of: commit) }?.message.contains("caf\\xE9.txt") == true)

        // Without the odd name, the 9 MB blob (loose: streamed) comes out whole.
        #expect(raw.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { unlink($0.baseAddress!) } } == 0)
        let plain = try scratch.gitCommitAll("big only", in: path, second: 2)
        try repository.checkout(plain, into: scratch.url("big"))
        #expect(try Data(contentsOf: scratch.url("big").appendingPathComponent("app/big.bin")) == big)
    }

    @Test("a bare repository's commit is written out with contents, exec bits and symlinks")
    func checkoutFromBare() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let repository = try Repository.create(at: scratch.path("control.git"), bare: true)
        let commit = try repository.commit(
            changes: [
                "app/index.php": .write("<?php echo 'hi';\n".data),
                "app/bin/console": .write("#!/bin/sh\n".data, mode: .executable),
                "app/latest": .write("index.php".data, mode: .symlink),
                "empty.txt": .write(Data()),
            ],
            onto: "refs/heads/main",
            parent: nil,
            message: "app",
            author: robot
        )
        let target = scratch.url("releases/0001")
        try repository.checkout(commit, into: target)

        #expect(try Data(contentsOf: target.appendingPathComponent("app/index.php")) == "<?php echo 'hi';\n".data)
        #expect(try Data(contentsOf: target.appendingPathComponent("empty.txt")).isEmpty)
        #expect(FileManager.default.isExecutableFile(atPath: target.appendingPathComponent("app/bin/console").path))
        #expect(!FileManager.default.isExecutableFile(atPath: target.appendingPathComponent("app/index.php").path))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.appendingPathComponent("app/latest").path) == "index.php")
        #expect(try Data(contentsOf: target.appendingPathComponent("app/latest")) == "<?php echo 'hi';\n".data)

        // The git CLI's own checkout of the same commit has the same files.
        let oracle = scratch.path("oracle")
        try scratch.git(["clone", "-q", scratch.path("control.git"), oracle])
        let ours = try FileManager.default.subpathsOfDirectory(atPath: target.path).sorted()
        let theirs = try FileManager.default.subpathsOfDirectory(atPath: oracle).filter { !$0.hasPrefix(".git") }.sorted()
        #expect(ours == theirs)

        // Checking out a later commit over it replaces changed files, even a symlink with a file.
        let next = try repository.commit(
            changes: ["app/index.php": .write("v2".data), "app/latest": .write("plain".data)],
            onto: "refs/heads/main",
            parent: commit,
            message: "v2",
            author: robot
        )
        try repository.checkout(next, into: target)
        #expect(try Data(contentsOf: target.appendingPathComponent("app/index.php")) == "v2".data)
        #expect(try Data(contentsOf: target.appendingPathComponent("app/latest")) == "plain".data)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: target.appendingPathComponent("app/latest").path)) == nil)
    }
}

@Suite("Work tree")
struct WorkTreeTests {
    @Test("checkoutHead brings a work tree and its index up to a commit written without them")
    func checkoutHeadAfterCommit() throws {
        let sample = try SampleHistory()
        defer { sample.scratch.remove() }
        let repository = try Repository.open(at: sample.path)
        try repository.commit(
            changes: ["specs/9/task.yaml": .write("id: 9\n".data), "README.md": .delete],
            onto: "refs/heads/main",
            parent: sample.commits[2],
            message: "Add task 9",
            author: robot
        )
        try repository.checkoutHead()
        #expect(try String(contentsOfFile: sample.path + "/specs/9/task.yaml", encoding: .utf8) == "id: 9\n")
        #expect(!FileManager.default.fileExists(atPath: sample.path + "/README.md"))
        #expect(try sample.scratch.git(["-C", sample.path, "status", "--porcelain"]).isEmpty)
        let bare = try Repository.create(at: sample.scratch.path("bare.git"), bare: true)
        #expect(gitError { try bare.checkoutHead() } != nil)
    }
}
