import Foundation
import Git
import Testing

@Suite("Patches and identities")
struct PatchTests {
    @Test("patches between two commits read exactly as git diff prints them")
    func patchesMatchGitDiff() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.gitInit("work")
        let long = (1...40).map { "line \($0)" }
        try scratch.write(long.joined(separator: "\n") + "\n", to: "app/long.txt", in: path)
        try scratch.write("function page() {\n    return 1;\n}\n", to: "app/page.php", in: path)
        try scratch.write("gone\n", to: "old.txt", in: path)
        try scratch.write("a fairly long line that stays the same\nand another one\nand a third\n", to: "before.txt", in: path)
        let old = try scratch.gitCommitAll("base", in: path, second: 1)

        var changed = long
        changed[2] = "line three"
        changed[30] = "line thirty-one"
        try scratch.write(changed.joined(separator: "\n") + "\n", to: "app/long.txt", in: path)
        try scratch.write("function page() {\n    return 2;\n}", to: "app/page.php", in: path)
        try FileManager.default.removeItem(atPath: path + "/old.txt")
        try scratch.git(["-C", path, "mv", "before.txt", "after.txt"])
        try scratch.write("new\n", to: "app/new.txt", in: path)
        try Data([0, 1, 2, 255]).write(to: URL(fileURLWithPath: path + "/app/logo.bin"))
        let new = try scratch.gitCommitAll("change", in: path, second: 2)

        let repository = try Repository.open(at: path)
        let patches = try repository.patches(from: old, to: new)
        let expected = try scratch.git(["-C", path, "diff", "--no-color", old.hex, new.hex]) + "\n"
        #expect(patches.map(\.text).joined() == expected)
        #expect(patches.map(\.path) == ["after.txt", "app/logo.bin", "app/long.txt", "app/new.txt", "app/page.php", "old.txt"])
        #expect(patches.map(\.status) == [.renamed, .added, .modified, .added, .modified, .deleted])
        #expect(patches[0].oldPath == "before.txt")
        #expect(patches[1].isBinary && patches[1].added == 0)
        #expect(patches[2].added == 2 && patches[2].deleted == 2)
        #expect(patches[4].text.contains("\\ No newline at end of file"))

        // Beyond a size limit, a text file is named like a binary one.
        let limited = try repository.patches(from: old, to: new, maxFileSize: 100)
        let large = try #require(limited.first { $0.path == "app/long.txt" })
        #expect(large.isBinary && large.text.hasSuffix("Binary files a/app/long.txt and b/app/long.txt differ\n"), "\(large.text)")

        // Against the empty tree, every file is added.
        let root = try repository.patches(from: nil, to: old)
        #expect(root.allSatisfy { $0.status == .added } && root.count == 4)
        #expect(try repository.patches(from: new, to: new).isEmpty)
    }

    @Test("the author identity comes from GIT_AUTHOR_* first, then user.name and user.email")
    func authorIdentity() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = try scratch.gitInit("work")
        let repository = try Repository.open(at: path)
        #expect(try repository.configValue("devsys.nothing") == nil)
        try scratch.git(["-C", path, "config", "user.name", "Ada Lovelace"])
        #expect(try repository.authorIdentity(environment: [:])?.name == "Ada Lovelace")
        try scratch.git(["-C", path, "config", "user.email", "ada@example.com"])
        let fromConfig = try #require(try Repository.open(at: path).authorIdentity(environment: [:]))
        #expect(fromConfig.description == "Ada Lovelace <ada@example.com>")
        let fromEnvironment = try Repository.open(at: path).authorIdentity(environment: ["GIT_AUTHOR_NAME": "Grace Hopper"])
        #expect(fromEnvironment == GitIdentity(name: "Grace Hopper", email: "ada@example.com"))
    }
}
