import Foundation

/// Validates spec folders the way `devsys validate` and the pre-receive hook do: each folder on
/// its own (task.yaml, spec-kit files, sizes) and against the rest of the repository (folder
/// name, apps and environments in devsys.yaml, related tasks, duplicate ids).
///
/// Pure: the caller reads the files (from a git tree or a checkout) and hands over their bytes.
/// devsys.yaml is parsed once, in `init`, and reused for every folder.
public struct SpecTreeValidator: Sendable {
    /// The files of one spec folder (also reachable as the top-level `SpecFolder`).
    public typealias SpecFolder = Specs.SpecFolder

    /// Largest file accepted in a spec folder (and for devsys.yaml and checks.yaml): 256 KiB.
    public static let maxFileSize = 256 * 1024

    /// The file the `script` coding agent runs, in each spec folder.
    public static let agentScriptName = "agent.sh"

    /// Problems with devsys.yaml itself (or its absence). `validate` does not repeat them.
    public let configDiagnostics: [Diagnostic]
    /// The parsed config, when it has no errors.
    public var config: ProjectConfig? { parsedConfig?.config }

    private let parsedConfig: ParsedProjectConfig?

    /// Environment names in devsys.yaml, even when the file has errors elsewhere; nil when unknown.
    var environmentNames: Set<String>? { parsedConfig?.environmentNames }

    /// - Parameter config: devsys.yaml's path and content; nil when the repository has none.
    public init(config: (path: String, data: Data)?) {
        guard let config else {
            parsedConfig = nil
            configDiagnostics = [
                Diagnostic(
                    path: "devsys.yaml",
                    message: "devsys.yaml is missing at the top of the repository; run 'devsys init' or add one naming your apps"
                )
            ]
            return
        }
        let parsed = ProjectConfigReader.read(config.data, path: config.path)
        parsedConfig = parsed
        configDiagnostics = Diagnostic.sortedForReading(parsed.diagnostics)
    }

    /// Checks `folders` and returns their diagnostics sorted by path, line and column.
    ///
    /// - Parameter allTaskIDs: the name of every folder under `specs/` in the tree (checked or not),
    ///   for `related_tasks` and duplicate ids.
    public func validate(folders: [SpecFolder], allTaskIDs: Set<String>) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        // id → (folder, task.yaml path, mark) of the first folder that claimed it.
        var claimed: [String: (folder: String, path: String, mark: YAMLMark)] = [:]
        claimed.reserveCapacity(folders.count)

        for folder in folders {
            if let (id, path, mark) = check(folder, allTaskIDs: allTaskIDs, into: &diagnostics) {
                if let first = claimed[id], first.path != path {
                    diagnostics.append(
                        Diagnostic(
                            path: path,
                            line: mark.line,
                            column: mark.column,
                            message: "id '\(id)' is also used by \(first.path); every task needs its own id"
                        )
                    )
                    diagnostics.append(
                        Diagnostic(
                            path: first.path,
                            line: first.mark.line,
                            column: first.mark.column,
                            message: "id '\(id)' is also used by \(path); every task needs its own id"
                        )
                    )
                } else {
                    claimed[id] = (folder.path, path, mark)
                }
            }
        }
        return diagnostics.isEmpty ? [] : Diagnostic.sortedForReading(diagnostics)
    }

    /// Checks one folder; returns the id its task.yaml claims (with where), for the duplicate check.
    private func check(
        _ folder: SpecFolder,
        allTaskIDs: Set<String>,
        into diagnostics: inout [Diagnostic]
    ) -> (String, String, YAMLMark)? {
        let trimmed = folder.path.hasSuffix("/") ? folder.path.dropLast() : folder.path[...]
        let folderName = String(trimmed.lastIndex(of: "/").map { trimmed[trimmed.index(after: $0)...] } ?? trimmed)
        if let problem = TaskID.problem(with: folderName, what: "folder name") {
            diagnostics.append(Diagnostic(path: folder.path, message: problem + "; rename the folder"))
        }

        for (name, size) in folder.oversizeFiles {
            diagnostics.append(Diagnostic(path: "\(folder.path)/\(name)", message: oversizeMessage(size)))
        }

        var claimedID: (String, String, YAMLMark)?
        let taskPath = folder.path + "/task.yaml"
        if let data = folder.files["task.yaml"] {
            if data.count > SpecTreeValidator.maxFileSize {
                diagnostics.append(Diagnostic(path: taskPath, message: oversizeMessage(data.count)))
            } else {
                let parsed = TaskSpecReader.read(data, path: taskPath)
                diagnostics += parsed.diagnostics
                claimedID = crossCheck(
                    parsed,
                    folderName: folderName,
                    folderPath: folder.path,
                    taskPath: taskPath,
                    allTaskIDs: allTaskIDs,
                    into: &diagnostics
                )
            }
        } else if folder.oversizeFiles["task.yaml"] == nil {
            diagnostics.append(Diagnostic(path: folder.path, message: "no task.yaml; every spec folder needs one"))
        }
        if let problem = agentScriptProblem(folder) {
            diagnostics.append(Diagnostic(path: folder.path, message: problem))
        }

        for (name, data) in folder.files where name != "task.yaml" {
            let path = "\(folder.path)/\(name)"
            if data.count > SpecTreeValidator.maxFileSize {
                diagnostics.append(Diagnostic(path: path, message: oversizeMessage(data.count)))
            } else if let kind = SpecKitFile(rawValue: name) {
                diagnostics += kind.validate(data, path: path)
            }
        }
        return claimedID
    }

    /// The checks that need the rest of the repository.
    private func crossCheck(
        _ parsed: ParsedTaskSpec,
        folderName: String,
        folderPath: String,
        taskPath: String,
        allTaskIDs: Set<String>,
        into diagnostics: inout [Diagnostic]
    ) -> (String, String, YAMLMark)? {
        func error(_ message: String, _ mark: YAMLMark) {
            diagnostics.append(Diagnostic(path: taskPath, line: mark.line, column: mark.column, message: message))
        }
        var claimedID: (String, String, YAMLMark)?
        if let (id, mark) = parsed.id.map({ ($0.text, $0.mark) }) {
            if id != folderName {
                error("id '\(id)' does not match its folder '\(folderPath)'; rename one of them", mark)
            }
            if TaskID.isValid(id) { claimedID = (id, taskPath, mark) }
        }
        if let (app, mark) = parsed.app.map({ ($0.text, $0.mark) }), let apps = parsedConfig?.appNames, !apps.contains(app) {
            let hint = apps.isEmpty ? "; devsys.yaml names no apps" : DidYouMean.hint(for: app, among: apps.sorted())
            error("unknown app '\(app)'; it is not under 'apps' in devsys.yaml\(hint)", mark)
        }
        if let (env, mark) = parsed.deployEnv.map({ ($0.text, $0.mark) }), let environments = parsedConfig?.environmentNames,
            !environments.contains(env)
        {
            let hint =
                environments.isEmpty ? "; devsys.yaml names no environments" : DidYouMean.hint(for: env, among: environments.sorted())
            error("unknown environment '\(env)' in 'deploy.env'; it is not under 'environments' in devsys.yaml\(hint)", mark)
        }
        for item in parsed.relatedTasks {
            let (related, mark) = (item.text, item.mark)
            if related == parsed.id?.text || related == folderName {
                error("related task '\(related)' is this task itself; remove it", mark)
            } else if !allTaskIDs.contains(related) {
                error("related task '\(related)' does not exist under specs/\(DidYouMean.hint(for: related, among: allTaskIDs))", mark)
            }
        }
        return claimedID
    }

    /// The `script` coding agent (the default) runs `specs/<id>/agent.sh`: a folder without one
    /// would fail at its first attempt, so it is refused now. Unknown when devsys.yaml has errors.
    private func agentScriptProblem(_ folder: SpecFolder) -> String? {
        guard let config, config.agents.coding.kind == .script else { return nil }
        guard folder.files[Self.agentScriptName] == nil, folder.oversizeFiles[Self.agentScriptName] == nil else { return nil }
        return "no \(Self.agentScriptName); the project's coding agent is 'kind: script' (agents.coding.kind in devsys.yaml; "
            + "script is the default), which runs \(folder.path)/\(Self.agentScriptName): add the script, or choose another agents.coding.kind"
    }

    private func oversizeMessage(_ size: Int) -> String {
        "file is \(size) bytes, over the limit of \(SpecTreeValidator.maxFileSize) bytes (256 KiB); keep spec files small"
    }
}
