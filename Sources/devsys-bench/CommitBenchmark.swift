import Foundation
import Git

/// Commits that each change one file and move a branch with compare-and-swap, in a fresh bare
/// repository: devsys in process (`Repository.commit(changes:onto:parent:…)`) against the git
/// plumbing a script would run per commit (hash-object, update-index, write-tree, commit-tree,
/// update-ref with the old value). The CLI side runs fewer commits and is scaled up, as its cost
/// per commit is flat (one process start dominates each step).
struct CommitBenchmark: Benchmark {
    let name = "commits"
    var devsysCommits = 1_000
    var gitCommits = 100
    let branch = "refs/heads/main"

    var quick: Self { Self(devsysCommits: 50, gitCommits: 10) }

    func run(runs: Int, scratch: URL) throws -> [Comparison] {
        var rows = [try compare(runs: runs, in: scratch, place: "on the scratch disk")]
        // Both sides write the same loose objects and lock files; on this machine's disk, file
        // creation alone can cost more than a whole devsys commit. The same work on tmpfs shows the
        // cost of the code rather than the disk's.
        let memory = URL(fileURLWithPath: "/dev/shm/devsys-bench-commits-\(getpid())")
        if FileManager.default.isWritableFile(atPath: "/dev/shm") {
            defer { try? FileManager.default.removeItem(at: memory) }
            rows.append(try compare(runs: runs, in: memory, place: "on tmpfs"))
        }
        return rows
    }

    private func compare(runs: Int, in folder: URL, place: String) throws -> Comparison {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let author = Signature(name: "Bench Robot", email: "bench@devsys.test")

        // Repositories are made before the clock starts: only commits and ref moves are timed.
        var devsysRepositories = try (0..<max(1, runs)).map { run in
            try Repository.create(at: folder.appendingPathComponent("devsys-\(run).git").path, bare: true)
        }
        var lastDevsys: Repository?
        let devsys = try medianSeconds(runs: runs) {
            let repository = devsysRepositories.removeFirst()
            var parent: ObjectID?
            for index in 0..<devsysCommits {
                parent = try repository.commit(
                    changes: ["counter.txt": .write(Data("commit \(index)\n".utf8))],
                    onto: branch,
                    parent: parent,
                    message: "Commit \(index)\n",
                    author: author
                )
            }
            lastDevsys = repository
        }
        if let lastDevsys { try verify(lastDevsys.gitDirectory, commits: devsysCommits) }

        var gitRepositories = try (0..<max(1, runs)).map { run in
            let path = folder.appendingPathComponent("git-\(run).git")
            try runTool(["git", "init", "-q", "--bare", "--initial-branch=main", path.path])
            return path
        }
        var lastGit: URL?
        let git = try medianSeconds(runs: runs) {
            let repository = gitRepositories.removeFirst()
            try runTool(["bash", "-c", Self.gitScript, "git-commits", repository.path, String(gitCommits)])
            lastGit = repository
        }
        if let lastGit { try verify(lastGit, commits: gitCommits) }

        let scaledGit = git * Double(devsysCommits) / Double(gitCommits)
        return Comparison(
            name: "commit + CAS ref update \(place) (git: \(gitCommits) commits, scaled ×\(devsysCommits / gitCommits))",
            unit: "commit",
            operations: devsysCommits,
            devsys: devsys,
            alternative: "git plumbing in bash (5 git runs per commit)",
            alternativeSeconds: scaledGit,
            goal: "≥ 50× git CLI per commit",
            met: scaledGit / devsys >= 50
        )
    }

    /// What a shell script does per commit, with its own index file so no work tree is needed.
    /// One bash process runs the whole loop, so only git's own process starts are counted (a
    /// Foundation `Process` per step would add its own start-up cost to git's).
    static let gitScript = """
        set -e
        export GIT_DIR="$1" GIT_INDEX_FILE="$1/bench-index"
        export GIT_AUTHOR_NAME="Bench Robot" GIT_AUTHOR_EMAIL=bench@devsys.test
        export GIT_COMMITTER_NAME="Bench Robot" GIT_COMMITTER_EMAIL=bench@devsys.test
        parent=""; old=0000000000000000000000000000000000000000
        for ((i = 0; i < $2; i++)); do
          blob=$(printf 'commit %d\\n' "$i" | git hash-object -w --stdin)
          git update-index --add --cacheinfo "100644,$blob,counter.txt"
          tree=$(git write-tree)
          commit=$(git commit-tree "$tree" ${parent:+-p "$parent"} -m "Commit $i")
          git update-ref refs/heads/main "$commit" "$old"
          parent=$commit; old=$commit
        done
        """

    /// The figures count only if git itself sees every commit on the branch and the repository is sound.
    private func verify(_ repository: URL, commits: Int) throws {
        let count = try runTool(["git", "-C", repository.path, "rev-list", "--count", branch])
        guard String(decoding: count, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == String(commits) else {
            throw BenchmarkError("\(repository.path): \(branch) does not hold \(commits) commits")
        }
        try runTool(["git", "-C", repository.path, "fsck", "--strict", "--no-dangling", "--no-progress"])
    }
}
