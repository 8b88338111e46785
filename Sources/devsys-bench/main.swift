import Foundation

// devsys-bench: run in release (`swift run -c release devsys-bench [--runs N] [NAME…]`).
// Each benchmark times devsys and the tool a user would use instead, on the same work in the same
// run, and the table prints medians and ratios. `--quick` runs each once on small sizes and checks
// no goal: it shows that the benchmarks still work (the test suite runs it), in any build.

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
var runsGiven = false
var quick = false
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
        runsGiven = true
    case "--quick":
        quick = true
    case "-h", "--help":
        print(
            """
            usage: devsys-bench [--runs N] [NAME…]
                   devsys-bench --quick [NAME…]
            Benchmarks (default: all): \(allBenchmarks.map(\.name).joined(separator: ", "))
            Build in release: swift run -c release devsys-bench
            --quick: each benchmark once, on small sizes, no goal checked; exits 0 only if every one ran
            """
        )
        exit(0)
    default:
        selected.append(argument)
    }
}

let names = allBenchmarks.map(\.name)
let unknown = selected.filter { !names.contains($0) }
guard unknown.isEmpty else {
    let message = "devsys-bench: no benchmark named \(unknown.joined(separator: ", ")); there are \(names.joined(separator: ", "))\n"
    FileHandle.standardError.write(Data(message.utf8))
    exit(2)
}
if quick && runsGiven {
    FileHandle.standardError.write(Data("devsys-bench: --quick runs each benchmark once; leave out --runs\n".utf8))
    exit(2)
}
var chosen = selected.isEmpty ? allBenchmarks : allBenchmarks.filter { selected.contains($0.name) }
if quick {
    runs = 1
    chosen = chosen.map { $0.quick }
    FileHandle.standardError.write(Data("devsys-bench: quick mode: small sizes, one run, no goal checked; the figures mean little.\n".utf8))
} else {
    #if DEBUG
    FileHandle.standardError.write(Data("devsys-bench: this is a debug build; figures mean little. Use -c release.\n".utf8))
    #endif
}

let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("devsys-bench-\(getpid())")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: scratch) }

var rows: [Comparison] = []
// A quick run goes on after a failure, so that one broken benchmark does not hide another.
var failed: [String] = []
for benchmark in chosen {
    FileHandle.standardError.write(Data("running \(benchmark.name) (\(runs) runs)…\n".utf8))
    do {
        rows += try benchmark.run(runs: runs, scratch: scratch.appendingPathComponent(benchmark.name))
    } catch {
        FileHandle.standardError.write(Data("devsys-bench: \(benchmark.name) failed: \(error)\n".utf8))
        guard quick else { exit(1) }
        failed.append(benchmark.name)
    }
}

func format(_ value: Double) -> String { String(format: value >= 100 ? "%.0f" : "%.2f", value) }

print("| benchmark | ops | devsys median | devsys ops/s | instead | instead median | instead ops/s | ratio | goal | met |")
print("|---|---:|---:|---:|---|---:|---:|---:|---|---|")
for row in rows {
    print(
        "| \(row.name) | \(row.operations) \(row.unit) | \(format(row.devsys * 1000)) ms | \(format(row.devsysRate)) "
            + "| \(row.alternative) | \(format(row.alternativeSeconds * 1000)) ms | \(format(row.alternativeRate)) "
            + "| \(format(row.speedup))× | \(row.goal) | \(quick ? "-" : row.met ? "yes" : "NO") |"
    )
}
if !failed.isEmpty {
    FileHandle.standardError.write(Data("devsys-bench: failed: \(failed.joined(separator: ", "))\n".utf8))
    try? FileManager.default.removeItem(at: scratch)
    exit(1)
}
