import Foundation

/// The processes of this machine whose command line contains `marker`, as `pid: command line` —
/// how a test sees, from outside, what an agent left behind in its sandbox (its own pids mean
/// nothing outside its pid namespace).
public func runningProcesses(matching marker: String) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        let command = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return command.contains(marker) ? "\(pid): \(command)" : nil
    }
}
