import Foundation

// devsys-bench: run in release (`swift run -c release devsys-bench [--runs N] [NAME…]`).
// Each benchmark times devsys and the tool a user would use instead, on the same work in the same
// run, and the table prints medians and ratios.

let allBenchmarks: [any Benchmark] = [
    SpecValidationBenchmark(),
    CommitBenchmark(),
    QueueBenchmark(),
    ReconcileBenchmark(),
    LatencyBenchmark(),
    LanesBenchmark(),
    SandboxBenchmark(),
    DeployBenchmark(),
]

var runs = 5
var selected: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--runs":
        guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else {
            FileHandle.standardError.write(Data("devsys-bench: --runs needs a positive number\n".utf8))
            exit(2)
        }
        runs = value
    case "-h", "--help":
        print(
            """
            usage: devsys-bench [--runs N] [NAME…]
            Benchmarks (default: all): \(allBenchmarks.map(\.name).joined(separator: ", "))
            Build in release: swift run -c release devsys-bench
            """
        )
        exit(0)
    default:
        selected.append(argument)
    }
}

let chosen = selected.isEmpty ? allBenchmarks : allBenchmarks.filter { selected.contains($0.name) }
guard !chosen.isEmpty else {
    FileHandle.standardError.write(Data("devsys-bench: no benchmark named \(selected.joined(separator: ", "))\n".utf8))
    exit(2)
}

#if DEBUG
FileHandle.standardError.write(Data("devsys-bench: this is a debug build; figures mean little. Use -c release.\n".utf8))
#endif

let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-bench-\(getpid())")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: scratch) }

var rows: [Comparison] = []
for benchmark in chosen {
    FileHandle.standardError.write(Data("running \(benchmark.name) (\(runs) runs)…\n".utf8))
    do {
        rows += try benchmark.run(runs: runs, scratch: scratch.appendingPathComponent(benchmark.name))
    } catch {
        FileHandle.standardError.write(Data("devsys-bench: \(benchmark.name) failed: \(error)\n".utf8))
        exit(1)
    }
}

func format(_ value: Double) -> String { String(format: value >= 100 ? "%.0f" : "%.2f", value) }

print("| benchmark | ops | devsys median | devsys ops/s | instead | instead median | instead ops/s | ratio | goal | met |")
print("|---|---:|---:|---:|---|---:|---:|---:|---|---|")
for row in rows {
    print(
        "| \(row.name) | \(row.operations) \(row.unit) | \(format(row.devsys * 1000)) ms | \(format(row.devsysRate)) "
            + "| \(row.alternative) | \(format(row.alternativeSeconds * 1000)) ms | \(format(row.alternativeRate)) "
            + "| \(format(row.speedup))× | \(row.goal) | \(row.met ? "yes" : "NO") |"
    )
}
