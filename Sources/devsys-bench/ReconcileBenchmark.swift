import ControlRepository
import Foundation
import Git
import Pipeline
import Specs
import Store

/// Reconcile cost with 10,000 specs on the trunk. devsys reads only what changed since the last
/// reconciled commit; the alternative is what a controller without that position does on every
/// tick — list every spec on the trunk and parse and validate each (a full rescan), in process,
/// through the same code.
struct ReconcileBenchmark: Benchmark {
    let name = "reconcile"
    var specs = 10_000
    var newSpecs = 20

    var quick: Self { Self(specs: 200, newSpecs: 3) }

    func run(runs: Int, scratch: URL) throws -> [Comparison] {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let path = scratch.appendingPathComponent("control.git").path
        let repository = try Repository.create(at: path, bare: true)
        let author = Signature(name: "bench", email: "bench@localhost")
        var files: [String: FileChange] = ["devsys.yaml": .write(Data(Self.config.utf8))]
        for index in 0..<specs { files["specs/\(Self.id(index))/task.yaml"] = .write(Data(Self.spec(Self.id(index)).utf8)) }
        var head = try repository.commit(changes: files, onto: "refs/heads/main", parent: nil, message: "10,000 specs", author: author)

        let store = try Store(path: scratch.appendingPathComponent("devsys.sqlite"))
        let reconciler = Reconciler(repositoryPath: path, store: store)
        try reconciler.reconcile()  // the first pass creates every task; not timed

        let ticks = 200
        let idle =
            try medianSeconds(runs: max(runs, 5)) {
                for _ in 0..<ticks { try reconciler.reconcile() }
            } / Double(ticks)

        var oneNew: [Double] = []
        for index in specs..<(specs + newSpecs) {
            let id = Self.id(index)
            head = try repository.commit(
                changes: ["specs/\(id)/task.yaml": .write(Data(Self.spec(id).utf8))],
                onto: "refs/heads/main",
                parent: head,
                message: "add \(id)",
                author: author
            )
            oneNew.append(try medianSeconds(runs: 1) { try reconciler.reconcile() })
        }
        oneNew.sort()
        let newMedian = oneNew[oneNew.count / 2]

        let control = ControlRepository(repository)
        let rescan = try medianSeconds(runs: max(1, runs / 2)) {
            let (_, snapshots) = try control.specs(named: nil, at: head)
            guard snapshots.count == specs + newSpecs else { throw BenchmarkError("rescan saw \(snapshots.count) specs") }
        }
        guard try store.tasks().count == specs + newSpecs else { throw BenchmarkError("reconciler missed tasks") }
        return [
            Comparison(
                name: "idle reconcile tick, \(specs) specs on main",
                unit: "tick",
                operations: 1,
                devsys: idle,
                alternative: "full rescan of every spec",
                alternativeSeconds: rescan,
                goal: "≤ 1 ms",
                met: idle <= 0.001
            ),
            Comparison(
                name: "reconcile after one new spec, \(specs) specs on main",
                unit: "tick",
                operations: 1,
                devsys: newMedian,
                alternative: "full rescan of every spec",
                alternativeSeconds: rescan,
                goal: "≤ 10 ms",
                met: newMedian <= 0.010
            ),
        ]
    }

    static func id(_ index: Int) -> String { String(format: "%05d-bench-task", index + 1) }

    static let config = """
        apps:
          blog: { path: app, test: php tests/run.php }
        environments:
          staging: { hosts: [dev1] }
        hosts:
          dev1: { transport: local, root: ./hosts/dev1 }
        """

    static func spec(_ id: String) -> String {
        """
        id: \(id)
        title: Benchmark task \(id)
        kind: feature
        app: blog
        acceptance:
          - name: unit tests
            run: php tests/run.php
        expected_artifacts: [app/\(id).php]
        """
    }
}
