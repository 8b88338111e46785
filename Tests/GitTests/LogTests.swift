import Foundation
import Git
import Testing

@Suite("History")
struct LogTests {
    @Test("log walks history in git's order, with a limit and first-parent only")
    func logMatchesRevList() throws {
        let history = try DivergedHistory()
        defer { history.scratch.remove() }
        let scratch = history.scratch
        try scratch.git(["-C", history.path, "merge", "-q", "--no-edit", "feature"], date: 4)
        try scratch.write("after\n", to: "after.txt", in: history.path)
        let tip = try scratch.gitCommitAll("after merge", in: history.path, second: 5)
        let repository = try Repository.open(at: history.path)

        let all = try repository.log(from: tip)
        #expect(all.map(\.id.hex).joined(separator: "\n") == (try scratch.git(["-C", history.path, "rev-list", "--date-order", tip.hex])))
        #expect(all.count == 5)
        // Children before parents, then newest first: main's own commit (later) before feature's.
        #expect(all.map(\.summary) == ["after merge", "Merge branch 'feature'", "main work", "feature work", "base"])
        #expect(all.first?.summary == "after merge")
        #expect(try repository.log(from: tip, limit: 2).map(\.id) == Array(all.prefix(2).map(\.id)))
        let firstParent = try repository.log(from: tip, firstParentOnly: true)
        #expect(firstParent.map(\.id.hex).joined(separator: "\n") == (try scratch.git(["-C", history.path, "rev-list", "--first-parent", tip.hex])))
        #expect(!firstParent.map(\.id).contains(history.theirs))
        #expect(try repository.log(from: history.base).map(\.id) == [history.base])
    }
}
