import Foundation
import Specs

/// The prompt a coding agent gets: the task in plain Markdown, written to `DEVSYS_PROMPT_FILE`
/// and, for the CLI presets, passed as the message.
enum CodingPrompt {
    /// The spec-kit files are read from the checkout's spec folder when they are there.
    static func text(for request: CodingRequest, checkout: URL) -> String {
        let spec = request.spec
        var lines = ["# \(spec.title)", ""]
        lines.append("Task \(request.taskID) (\(spec.kind.rawValue)) for the app `\(spec.app)`, attempt \(request.attempt).")
        if !spec.story.isEmpty { lines += ["", "## Story", "", spec.story] }
        lines += ["", "## Acceptance checks", ""]
        for check in spec.acceptance {
            switch check.probe {
            case .run(let command):
                lines.append("- \(check.name): `\(command)` exits with status 0 when run from the repository root.")
            case .http(let probe):
                let body = probe.bodyContains.map { " and the body contains \"\($0)\"" } ?? ""
                lines.append("- \(check.name): once deployed, GET \(probe.path) answers \(probe.status)\(body).")
            }
        }
        if !spec.expectedArtifacts.isEmpty {
            lines += ["", "## Files you must produce", ""]
            lines += spec.expectedArtifacts.map { "- \($0)" }
        }
        lines += [
            "", "## Rules", "",
            "- Work in the current folder, the repository's files at the task branch. devsys commits what you change; do not run git.",
            "- The spec is in \(request.specFolder)/. Do not change these paths: "
                + ProtectedPaths(request.agent.protectedPaths).patterns.joined(separator: ", ") + ".",
            "- A change to a protected path, no change at all, or a missing expected file fails the attempt.",
        ]
        if let feedback = request.feedback, !feedback.isEmpty {
            lines += ["", "## Feedback on the previous attempt", "", feedback]
        }
        for file in SpecKitFile.allCases {
            let url = checkout.appendingPathComponent(request.specFolder).appendingPathComponent(file.rawValue)
            guard let data = try? Data(contentsOf: url) else { continue }
            lines += ["", "## \(request.specFolder)/\(file.rawValue)", "", String(decoding: data, as: UTF8.self)]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
