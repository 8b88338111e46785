/// The names of a control repository's refs (DESIGN §2, contract), in one place: the trunk and
/// task branches, env refs, deploy tags and devsys's notes. Users and scripts rely on them.
public enum ControlRefs {
    /// `refs/heads/<name>`.
    public static func branch(_ name: String) -> String { "refs/heads/\(name)" }

    public static let taskBranchPrefix = "refs/heads/task/"

    /// `refs/heads/task/<id>`: the coding agent's commits for a task, reviewed like a pull request.
    public static func taskBranch(_ id: String) -> String { taskBranchPrefix + id }

    /// The task id of a task branch's full name.
    public static func taskID(ofBranch ref: String) -> String? {
        ref.hasPrefix(taskBranchPrefix) ? String(ref.dropFirst(taskBranchPrefix.count)) : nil
    }

    public static let environmentPrefix = "refs/heads/env/"

    /// `refs/heads/env/<env>`: the commit an environment should serve.
    public static func environment(_ name: String) -> String { environmentPrefix + name }

    /// The environment of an env ref's full name.
    public static func environmentName(ofRef ref: String) -> String? {
        ref.hasPrefix(environmentPrefix) ? String(ref.dropFirst(environmentPrefix.count)) : nil
    }

    public static let tagPrefix = "refs/tags/"

    /// `deploy/<env>/`: the short-name prefix of an environment's deploy tags (`deploy/<env>/<NNNN>`).
    public static func deployTagPrefix(_ environment: String) -> String { "deploy/\(environment)/" }

    /// A JUnit XML report on each tested commit.
    public static let testNotes = "refs/notes/devsys/tests"
    /// `Approved-by:` / `Rejected-by:` lines on reviewed branch heads.
    public static let reviewNotes = "refs/notes/devsys/reviews"
    /// `Bad: <env> at <time> by <who>: <why>` on commits that must not be deployed again.
    public static let badNotes = "refs/notes/devsys/bad"
}
