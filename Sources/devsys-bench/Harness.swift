import Foundation

/// One line of the benchmark table: devsys and the tool a user would use instead, on the same
/// work in the same run. `unit` names what one operation is ("spec", "commit").
struct Comparison {
    var name: String
    var unit: String
    var operations: Int
    /// Median seconds for all `operations`, devsys.
    var devsys: Double
    /// The alternative tool's name and its median seconds for the same `operations`.
    var alternative: String
    var alternativeSeconds: Double
    /// What the issue asks for, in words, e.g. "≥ 50,000 spec/s and ≥ 5× python".
    var goal: String
    /// Whether the measured figures meet the goal.
    var met: Bool

    var devsysRate: Double { Double(operations) / devsys }
    var alternativeRate: Double { Double(operations) / alternativeSeconds }
    /// How many times faster devsys is than the alternative.
    var speedup: Double { alternativeSeconds / devsys }
}

/// A benchmark measures itself and returns its comparisons; `runs` is how many times each side is
/// timed (the median is reported).
protocol Benchmark {
    var name: String { get }
    /// The same benchmark on small sizes, for `--quick`: one run shows in seconds that it still
    /// works (what CI checks), not how fast devsys is.
    var quick: Self { get }
    func run(runs: Int, scratch: URL) throws -> [Comparison]
}

/// Times `body` `runs` times and returns the median wall-clock seconds.
func medianSeconds(runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<max(1, runs) {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    samples.sort()
    let middle = samples.count / 2
    return samples.count % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2
}

/// Runs a command to completion and throws when it exits non-zero.
@discardableResult
func runTool(_ arguments: [String], in directory: URL? = nil, input: Data? = nil) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe()
    process.standardOutput = output
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchmarkError("\(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
    }
    return data
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
