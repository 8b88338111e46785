import Foundation
import Git
import Processes
import Specs

/// The coding agent (DESIGN §5): runs a coding command in a fresh checkout of the task branch and
/// commits what it changed, with `Task:` and `Attempt:` trailers, moving the branch with
/// compare-and-swap.
///
/// `attempt(_:)` is a short list of steps; each returns the attempt's failure, if any, and stops
/// there. An exit status of 0 is not trusted: the change set is judged on its own.
public struct CodingAgent: Sendable {
    /// Author and committer of the agent's commits.
    public static let authorName = "devsys coding agent"
    public static let authorEmail = "coding-agent@devsys.invalid"

    public var runner: ProcessRunner

    public init(runner: ProcessRunner = ProcessRunner()) {
        self.runner = runner
    }

    /// The time a coding command gets: the spec's `resource_requirements.timeout_s` (default
    /// 900 s), capped by `agents.coding.timeout_s` (default 1800 s) — the spec says what the task
    /// needs, the operator's config says what any task may take.
    public static func timeout(for spec: TaskSpec, agent: ProjectConfig.CodingAgent) -> Duration {
        .seconds(max(1, min(spec.resources.timeoutSeconds, agent.timeoutSeconds)))
    }

    /// Runs one coding attempt and commits its changes on the task branch.
    ///
    /// When the branch head already is this task's commit for this attempt (the controller
    /// stopped after committing but before recording it), returns that commit without running
    /// anything again: one agent commit per attempt. Otherwise the branch must be at
    /// `request.head` (or not exist yet). On any `.failed` outcome the branch has not moved;
    /// the checkout is kept in `<scratch>/checkout-<attempt>-<token>` for a look (until the attempt is tried again), and removed on success.
    ///
    /// Throws `AgentError.branchMoved` when someone moved the branch meanwhile, `AgentError.scratchFolder`
    /// when the scratch folder cannot be prepared, `GitError` when the repository cannot be read or
    /// written, `CancellationError` when cancelled (the command is stopped first).
    public func attempt(_ request: CodingRequest) async throws -> CodingOutcome {
        // git and the file system block: each of those steps runs on the blocking pool.
        if let recorded = try await offload({ try Self.recordedCommit(for: request) }) { return recorded }
        let work = try await offload { try Self.prepareCheckout(request) }
        let command: [String]
        switch Self.command(for: request, work: work) {
        case .success(let argv): command = argv
        case .failure(let failure): return failure.outcome(log: "")
        }
        let invocation = ProcessRunner.Invocation(
            arguments: command,
            workingDirectory: work.checkout,
            environment: Self.environment(for: request, work: work),
            timeout: request.timeout,
            sandbox: request.sandbox?.sandbox(writable: [work.checkout, work.toolFolder])
        )
        let outcome: ProcessOutcome
        do {
            outcome = try await runner.run(invocation)
        } catch let error as ProcessRunnerError {
            return CodingFailure("cannot start the coding command: \(error)").outcome(log: Self.describe(command))
        } catch let error as SandboxUnavailable {
            return CodingFailure("\(error)").outcome(log: Self.describe(command))
        }
        let log = Self.log(command: command, outcome: outcome, timeout: request.timeout)
        if let failure = Self.judgeRun(outcome, request: request, work: work) { return failure.outcome(log: log) }
        let changes: WorkFolderChanges
        switch try await offload({ try Self.collectChanges(request, work: work) }) {
        case .success(let found): changes = found
        case .failure(let failure): return failure.outcome(log: log)
        }
        let duration = outcome.duration
        switch try await offload({ try Self.commitChanges(changes, request: request, duration: duration) }) {
        case .success(let commit):
            _ = try? await offload { try FileManager.default.removeItem(at: work.checkout) }
            return .committed(commit, changedPaths: changes.changedPaths)
        case .failure(let failure):
            return failure.outcome(log: log)
        }
    }

    // MARK: Steps

    /// The folders and files of one attempt, and the tree it started from.
    struct Work {
        var checkout: URL
        var promptFile: URL
        var feedbackFile: URL
        var toolFolder: URL
        var prompt: String
        var tree: [TreeEntry]
    }

    /// Idempotency: the branch head's `Task:`/`Attempt:` trailers name this attempt → it was
    /// committed before a crash; return it. Stops the attempt early when so. Throws
    /// `AgentError.branchMoved` when the head is neither that nor `request.head`.
    static func recordedCommit(for request: CodingRequest) throws -> CodingOutcome? {
        let repository = try Repository.open(at: request.repositoryPath)
        guard let tip = try repository.reference(named: request.branch) else { return nil }
        let commit = try repository.commit(tip)
        if CommitTrailers.value("Task", in: commit.message) == request.taskID,
            CommitTrailers.value("Attempt", in: commit.message) == String(request.attempt)
        {
            let paths = try repository.diff(from: commit.parents.first, to: tip).map(\.path).sorted()
            return .committed(tip, changedPaths: paths)
        }
        guard tip == request.head else { throw AgentError.branchMoved(branch: request.branch, expected: request.head, found: tip) }
        return nil
    }

    /// Checks `request.head` out into a fresh `<scratch>/checkout-<attempt>-<token>` and writes
    /// the prompt and feedback files beside it, outside the checkout, in `attempt-<attempt>-<token>`.
    /// Every try has folders of its own: a predecessor's process that outlived a crash can never
    /// write into this one's checkout. Leftovers of earlier tries of the attempt are removed.
    static func prepareCheckout(_ request: CodingRequest) throws -> Work {
        let repository = try Repository.open(at: request.repositoryPath)
        let token = String(UInt32.random(in: .min ... .max), radix: 16)
        let checkout = request.scratchFolder.appendingPathComponent("checkout-\(request.attempt)-\(token)")
        let files = request.scratchFolder.appendingPathComponent("attempt-\(request.attempt)-\(token)")
        ScratchFolder.removeEarlierTries(in: request.scratchFolder, prefixes: ["checkout-\(request.attempt)", "attempt-\(request.attempt)"])
        try ScratchFolder.makeFresh(checkout)
        try ScratchFolder.makeFresh(files)
        try repository.checkout(request.head, into: checkout)
        let prompt = CodingPrompt.text(for: request, checkout: checkout)
        let work = Work(
            checkout: checkout,
            promptFile: files.appendingPathComponent("prompt.md"),
            feedbackFile: files.appendingPathComponent("feedback.md"),
            toolFolder: files,
            prompt: prompt,
            tree: try repository.tree(of: request.head)
        )
        try ScratchFolder.write(Data(prompt.utf8), to: work.promptFile)
        try ScratchFolder.write(Data((request.feedback ?? "").utf8), to: work.feedbackFile)
        return work
    }

    /// The argv for the configured agent; fails the attempt when the `script` kind has no
    /// `agent.sh` or the `command` kind no command.
    static func command(for request: CodingRequest, work: Work) -> Result<[String], CodingFailure> {
        let inputs = CodingCommandInputs(
            taskID: request.taskID,
            specFolder: request.specFolder,
            promptFile: work.promptFile.path,
            feedbackFile: work.feedbackFile.path,
            prompt: work.prompt,
            attempt: request.attempt,
            toolFolder: work.toolFolder.path
        )
        guard let argv = commandLine(for: request.agent, inputs) else {
            return .failure(CodingFailure("agents.coding.kind is 'command' but agents.coding.command is empty in devsys.yaml; give the argv to run"))
        }
        if request.agent.kind == .script, request.agent.command?.isEmpty ?? true {
            let script = request.specFolder + "/agent.sh"
            guard work.tree.contains(where: { $0.path == script && $0.mode != .directory }) else {
                return .failure(
                    CodingFailure(
                        "\(script) does not exist at \(request.head.hex.prefix(12)): the script coding agent runs it; add it to the spec folder or set agents.coding.kind in devsys.yaml"
                    )
                )
            }
        }
        return .success(argv)
    }

    /// The `DEVSYS_*` variables on top of the request's own.
    static func environment(for request: CodingRequest, work: Work) -> [String: String] {
        request.environment.merging(
            [
                "DEVSYS_TASK_ID": request.taskID,
                "DEVSYS_SPEC_DIR": work.checkout.appendingPathComponent(request.specFolder).path,
                "DEVSYS_PROMPT_FILE": work.promptFile.path,
                "DEVSYS_FEEDBACK_FILE": work.feedbackFile.path,
                "DEVSYS_ATTEMPT": String(request.attempt),
            ]
        ) { $1 }
    }

    /// Fails the attempt when the command went over its memory, timed out, did not exit 0, or
    /// deleted its checkout.
    static func judgeRun(_ outcome: ProcessOutcome, request: CodingRequest, work: Work) -> CodingFailure? {
        if outcome.memoryExceeded, let sandbox = request.sandbox {
            return CodingFailure("the coding command failed: \(sandbox.memoryReason())")
        }
        if outcome.timedOut {
            return CodingFailure("the coding command timed out after \(ProcessOutcome.seconds(request.timeout)) and was stopped")
        }
        if outcome.termination != .exited(0) {
            // The last line the command printed (stderr first) usually says why; the log has the rest.
            let tail = outcome.stderr.totalBytes > 0 ? outcome.stderr : outcome.stdout
            let lastLine =
                tail.lastText(maxBytes: 1024).split(whereSeparator: \.isNewline)
                .last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { String($0.prefix(300)) } ?? ""
            return CodingFailure("the coding command failed with \(outcome.termination)" + (lastLine.isEmpty ? "" : ": \(lastLine)"))
        }
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: work.checkout.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
            return CodingFailure(
                "the coding command deleted its checkout folder \(work.checkout.path); it must change files inside it, not remove it"
            )
        }
        return nil
    }

    /// Walks the checkout against the tree; fails when nothing changed, a protected path changed,
    /// or an expected artifact is missing.
    static func collectChanges(_ request: CodingRequest, work: Work) throws -> Result<WorkFolderChanges, CodingFailure> {
        let changes: WorkFolderChanges
        let limits = WorkFolderChanges.Limits(changeBytes: request.agent.maxChangeMB * 1_048_576, fileBytes: request.agent.maxFileMB * 1_048_576)
        do {
            changes = try WorkFolderChanges(folder: work.checkout, tree: work.tree, limits: limits)
        } catch let refusal as WorkFolderChanges.Refusal {
            return .failure(CodingFailure(refusal.reason))
        } catch let error as AgentError {
            // Files the agent left unreadable are the attempt's fault, not the controller's.
            return .failure(CodingFailure("cannot read what the agent left in its checkout: \(error)"))
        }
        if changes.isEmpty {
            return .failure(CodingFailure("the coding command exited 0 but changed no file; an attempt must change something"))
        }
        let protected = ProtectedPaths(request.agent.protectedPaths)
        let violations = protected.violations(in: changes.changedPaths)
        if !violations.isEmpty {
            let patterns = Set(violations.compactMap(protected.pattern(protecting:))).sorted()
            return .failure(
                CodingFailure(
                    "the agent changed protected paths: \(Self.list(violations)) (protected by \(patterns.joined(separator: ", "))); the coding agent may not change them"
                )
            )
        }
        let missing = request.spec.expectedArtifacts.filter { artifact in
            let folder = artifact.hasSuffix("/") ? artifact : artifact + "/"
            return !changes.presentPaths.contains(artifact) && !changes.presentPaths.contains { $0.hasPrefix(folder) }
        }
        if !missing.isEmpty {
            return .failure(CodingFailure("expected artifacts missing after the agent ran: \(Self.list(missing)) (expected_artifacts in task.yaml)"))
        }
        return .success(changes)
    }

    /// Writes the commit on `request.head`, checks the tree it made once more against the
    /// protected paths (what is committed, not only what the walk saw), and moves the branch to it
    /// with compare-and-swap (creating it when it does not exist yet). Throws
    /// `AgentError.branchMoved` on a lost race.
    static func commitChanges(_ changes: WorkFolderChanges, request: CodingRequest, duration: Duration) throws -> Result<ObjectID, CodingFailure> {
        let repository = try Repository.open(at: request.repositoryPath)
        let signature = Signature(name: authorName, email: authorEmail)
        let message = commitMessage(request: request, changes: changes, duration: duration)
        do {
            let commit = try repository.createCommit(
                changes: changes.changes,
                parents: [request.head],
                message: message,
                author: signature,
                committer: signature
            )
            let committed = try repository.diff(from: request.head, to: commit).map(\.path)
            let violations = ProtectedPaths(request.agent.protectedPaths).violations(in: committed)
            if !violations.isEmpty {
                return .failure(
                    CodingFailure("the commit would change protected paths: \(Self.list(violations.sorted())); the coding agent may not change them")
                )
            }
            let existing = try repository.reference(named: request.branch)
            try repository.updateReference(
                request.branch,
                to: commit,
                expecting: existing == nil ? nil : request.head,
                message: "devsys coding agent: attempt \(request.attempt)"
            )
            return .success(commit)
        } catch let error as GitError where error.isLostRace {
            throw AgentError.branchMoved(branch: request.branch, expected: request.head, found: try? repository.reference(named: request.branch))
        } catch let error as GitError where error.kind == .invalidPath {
            return .failure(CodingFailure("the agent left a file git cannot store: \(error.message)"))
        }
    }

    /// `<title> (attempt N)`, a short body, and the `Task:`/`Attempt:` trailers.
    static func commitMessage(request: CodingRequest, changes: WorkFolderChanges, duration: Duration) -> String {
        let title = request.spec.title.split(whereSeparator: \.isNewline).joined(separator: " ")
        let files = changes.changedPaths.count == 1 ? "1 file" : "\(changes.changedPaths.count) files"
        return """
            \(title) (attempt \(request.attempt))

            The \(request.agent.kind.rawValue) coding agent changed \(files) (\(changes.counts)) in \(ProcessOutcome.seconds(duration)).

            Task: \(request.taskID)
            Attempt: \(request.attempt)

            """
    }

    // MARK: Wording

    static func list(_ paths: [String], limit: Int = 10) -> String {
        paths.count <= limit ? paths.joined(separator: ", ") : paths.prefix(limit).joined(separator: ", ") + " and \(paths.count - limit) more"
    }

    /// The argv for a log, with long arguments (the prompt) shortened.
    static func describe(_ command: [String]) -> String {
        "$ " + command.map { $0.utf8.count > 120 ? "'\($0.prefix(60))…' (\($0.utf8.count) bytes)" : $0 }.joined(separator: " ")
    }

    static func log(command: [String], outcome: ProcessOutcome, timeout: Duration) -> String {
        """
        \(describe(command))
        \(outcome.describe(timeout: timeout)) after \(ProcessOutcome.seconds(outcome.duration))
        --- stdout (\(outcome.stdout.totalBytes) bytes) ---
        \(outcome.stdout.lastText(maxBytes: 8192))
        --- stderr (\(outcome.stderr.totalBytes) bytes) ---
        \(outcome.stderr.lastText(maxBytes: 8192))
        """
    }
}

/// Why an attempt failed, in one line for people.
struct CodingFailure: Error {
    var reason: String

    init(_ reason: String) {
        self.reason = reason
    }

    func outcome(log: String) -> CodingOutcome {
        .failed(reason: reason, log: log)
    }
}
