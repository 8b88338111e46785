import Specs

/// What goes into the coding command's argv.
public struct CodingCommandInputs: Sendable, Hashable {
    public var taskID: String
    /// `specs/<id>`, relative to the checkout root.
    public var specFolder: String
    /// Absolute paths of the prompt and feedback files (outside the checkout).
    public var promptFile: String
    public var feedbackFile: String
    /// The prompt's text, for the presets that take it as an argument.
    public var prompt: String
    public var attempt: Int
    /// A folder outside the checkout for a tool's own files (aider's chat history).
    public var toolFolder: String

    public init(taskID: String, specFolder: String, promptFile: String, feedbackFile: String, prompt: String, attempt: Int, toolFolder: String) {
        self.taskID = taskID
        self.specFolder = specFolder
        self.promptFile = promptFile
        self.feedbackFile = feedbackFile
        self.prompt = prompt
        self.attempt = attempt
        self.toolFolder = toolFolder
    }
}

extension CodingAgent {
    /// Linux refuses a single argument over 128 KiB (`MAX_ARG_STRLEN`); longer prompts are cut
    /// in the argv and point at the prompt file, which holds all of it.
    static let inlinePromptLimit = 96 * 1024

    /// The argv of the coding command — pure, so each preset's exact argv is tested:
    ///
    /// | kind | argv |
    /// |---|---|
    /// | `script` | `sh specs/<id>/agent.sh` |
    /// | `opencode` | `opencode run <prompt>` |
    /// | `aider` | `aider --message <prompt> --yes-always --no-git --chat-history-file … --input-history-file …` |
    /// | `command` | `agents.coding.command` |
    ///
    /// `agents.coding.command`, when set, replaces the `opencode` and `aider` presets. Its
    /// arguments may hold `{prompt_file}`, `{feedback_file}`, `{task_id}`, `{spec_dir}`,
    /// `{attempt}` and `{prompt}`, replaced once (text put in is not searched again). aider gets
    /// `--no-git` because the checkout has no repository (it would make one and edit
    /// `.gitignore`, a protected path) and keeps its history files outside the checkout so they
    /// are not committed. Returns nil for `command` without a command.
    public static func commandLine(for agent: ProjectConfig.CodingAgent, _ inputs: CodingCommandInputs) -> [String]? {
        if let command = agent.command, !command.isEmpty, agent.kind != .script {
            return command.map { substitute(in: $0, inputs) }
        }
        switch agent.kind {
        case .script:
            return ["sh", inputs.specFolder + "/agent.sh"]
        case .opencode:
            return ["opencode", "run", inlinePrompt(inputs)]
        case .aider:
            return [
                "aider", "--message", inlinePrompt(inputs), "--yes-always", "--no-git",
                "--chat-history-file", inputs.toolFolder + "/aider.chat.history.md",
                "--input-history-file", inputs.toolFolder + "/aider.input.history",
            ]
        case .command:
            return nil
        }
    }

    static func inlinePrompt(_ inputs: CodingCommandInputs) -> String {
        guard inputs.prompt.utf8.count > inlinePromptLimit else { return inputs.prompt }
        // A character cut in half becomes U+FFFD; the file has it whole.
        let cut = String(decoding: inputs.prompt.utf8.prefix(inlinePromptLimit - 512), as: UTF8.self)
        return cut + "\n\n[The prompt is cut here; read all of it in \(inputs.promptFile).]"
    }

    /// Replaces the known `{name}` placeholders of `argument` in one pass; unknown ones stay.
    static func substitute(in argument: String, _ inputs: CodingCommandInputs) -> String {
        let values = [
            "prompt_file": inputs.promptFile, "feedback_file": inputs.feedbackFile, "task_id": inputs.taskID,
            "spec_dir": inputs.specFolder, "attempt": String(inputs.attempt), "prompt": inlinePrompt(inputs),
        ]
        var result = ""
        var rest = Substring(argument)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"), let value = values[String(rest[afterOpen..<close])] {
                result += value
                rest = rest[rest.index(after: close)...]
            } else {
                result += "{"
                rest = rest[afterOpen...]
            }
        }
        return result + rest
    }
}
