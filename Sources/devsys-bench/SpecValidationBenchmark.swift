import Foundation
import Specs
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Validating a repository's specs: devsys (read each task.yaml, parse, check it and the tree
/// against devsys.yaml, one thread) against what a user would script instead — Python with
/// PyYAML's C loader and `jsonschema` over `specs/task.schema.json`, timed inside Python so
/// interpreter start-up does not count.
struct SpecValidationBenchmark: Benchmark {
    let name = "specs"
    var specCount = 10_000

    var quick: Self { Self(specCount: 200) }

    func run(runs: Int, scratch: URL) throws -> [Comparison] {
        let corpus = try SpecCorpus.write(count: specCount, to: scratch)

        // Warm-up: page cache, allocator.
        _ = try validateWithDevsys(corpus)
        let devsys = try medianSeconds(runs: runs) {
            let diagnostics = try validateWithDevsys(corpus)
            guard diagnostics.isEmpty else {
                throw BenchmarkError("devsys found problems in the generated specs: \(diagnostics.prefix(3))")
            }
        }
        let python = try pythonSeconds(corpus, runs: runs, scratch: scratch)

        var row = Comparison(
            name: "spec validation",
            unit: "spec",
            operations: specCount,
            devsys: devsys,
            alternative: "python3 PyYAML CSafeLoader + jsonschema",
            alternativeSeconds: python,
            goal: "≥ 50,000 spec/s on one core and ≥ 5× python",
            met: false
        )
        row.met = row.devsysRate >= 50_000 && row.speedup >= 5
        return [row]
    }

    /// The whole of `devsys validate` for a tree: read devsys.yaml and every task.yaml, parse
    /// and check each, and the tree-level checks (apps, environments, related tasks, duplicates).
    private func validateWithDevsys(_ corpus: SpecCorpus) throws -> [Diagnostic] {
        let reader = FileReader()
        let validator = SpecTreeValidator(config: ("devsys.yaml", try reader.read(corpus.configPath)))
        guard validator.configDiagnostics.isEmpty else {
            throw BenchmarkError("devsys.yaml of the corpus is invalid: \(validator.configDiagnostics)")
        }
        var folders: [SpecFolder] = []
        folders.reserveCapacity(corpus.ids.count)
        for (id, path) in zip(corpus.ids, corpus.taskPaths) {
            folders.append(SpecFolder(path: "specs/" + id, files: ["task.yaml": try reader.read(path)]))
        }
        return validator.validate(folders: folders, allTaskIDs: Set(corpus.ids))
    }

    private func pythonSeconds(_ corpus: SpecCorpus, runs: Int, scratch: URL) throws -> Double {
        let script = scratch.appendingPathComponent("validate_specs.py")
        try SpecValidationBenchmark.pythonScript.write(to: script, atomically: true, encoding: .utf8)
        let list = scratch.appendingPathComponent("task-files.txt")
        try corpus.taskPaths.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        let output: Data
        do {
            output = try runTool(["python3", script.path, try schemaPath(), list.path, String(runs)])
        } catch {
            throw BenchmarkError("\(error) — the comparison needs python3 with PyYAML (its C loader) and jsonschema")
        }
        let text = String(decoding: output, as: UTF8.self)
        let samples = text.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }.sorted()
        guard samples.count == max(1, runs) else { throw BenchmarkError("unexpected output from python: \(text)") }
        let middle = samples.count / 2
        return samples.count % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2
    }

    private func schemaPath() throws -> String {
        let candidates = [
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("specs/task.schema.json").path,
            FileManager.default.currentDirectoryPath + "/specs/task.schema.json",
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw BenchmarkError("specs/task.schema.json not found; run devsys-bench from the repository root")
        }
        return found
    }

    /// Loops over the files `runs` times and prints each run's seconds; a spec with schema errors
    /// aborts (both sides must do the full work on valid specs).
    static let pythonScript = """
        import json, sys, time
        import yaml, jsonschema
        if not hasattr(yaml, "CSafeLoader"):
            sys.exit("PyYAML was built without libyaml; the C loader is needed for a fair comparison")
        schema_path, list_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
        with open(schema_path) as f:
            schema = json.load(f)
        validator = jsonschema.Draft202012Validator(schema)
        with open(list_path) as f:
            paths = f.read().split("\\n")
        for _ in range(runs):
            start = time.perf_counter()
            for path in paths:
                with open(path, "rb") as f:
                    data = yaml.load(f, Loader=yaml.CSafeLoader)
                for error in validator.iter_errors(data):
                    sys.exit("%s: %s" % (path, error.message))
            print(time.perf_counter() - start, flush=True)
        """
}

/// Reads whole files with one open/read/close each (no stat: a read that fills the buffer means
/// the file is over the limit), as a validator reading a checkout would.
private final class FileReader {
    private var buffer = [UInt8](repeating: 0, count: SpecTreeValidator.maxFileSize + 1)

    func read(_ path: String) throws -> Data {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw BenchmarkError("cannot open \(path)") }
        defer { close(descriptor) }
        var total = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { raw in
                systemRead(descriptor, raw.baseAddress! + total, raw.count - total)
            }
            guard got >= 0 else { throw BenchmarkError("cannot read \(path)") }
            total += got
            if got == 0 || total == buffer.count { break }
        }
        return buffer.withUnsafeBytes { Data($0.prefix(total)) }
    }
}

private func systemRead(_ descriptor: Int32, _ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, pointer, count)
}

/// A generated control repository: devsys.yaml and `count` varied, valid specs of 25–40 lines in
/// the styles people write (block and flow collections, comments, quoted and folded text).
struct SpecCorpus {
    var configPath: String
    var ids: [String]
    var taskPaths: [String]

    static let apps = ["blog", "shop", "wiki", "api", "admin"]
    static let environments = ["staging", "production", "qa"]

    static func write(count: Int, to root: URL) throws -> SpecCorpus {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: root.appendingPathComponent("specs"), withIntermediateDirectories: true)
        let configPath = root.appendingPathComponent("devsys.yaml").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)

        var generator = SeededGenerator(seed: 2024)
        let words = [
            "about", "page", "login", "cart", "search", "export", "cache", "menu", "footer", "rss", "feed", "avatar", "upload",
            "comments", "archive", "tags", "sitemap", "profile", "checkout", "invoice", "report", "theme", "locale", "email",
        ]
        var ids: [String] = []
        var paths: [String] = []
        ids.reserveCapacity(count)
        for index in 0..<count {
            let slug = (0..<Int.random(in: 1...3, using: &generator)).map { _ in words.randomElement(using: &generator)! }
            let id = String(format: "%05d-", index + 1) + slug.joined(separator: "-")
            let folder = root.appendingPathComponent("specs/\(id)")
            try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("task.yaml").path
            let text = spec(id: id, slug: slug, index: index, earlier: ids, using: &generator)
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            ids.append(id)
            paths.append(path)
        }
        return SpecCorpus(configPath: configPath, ids: ids, taskPaths: paths)
    }

    static let config = """
        trunk: main
        apps:
          blog: { path: apps/blog, test: php tests/run.php }
          shop: { path: apps/shop, test: php vendor/bin/phpunit }
          wiki: { path: apps/wiki }
          api:
            path: apps/api
            test: make test
          admin: { path: apps/admin }
        environments:
          staging:    { hosts: [web1], auto_deploy: true, on_regression: followup, keep_revisions: 5 }
          qa:         { hosts: [dev1], auto_deploy: true }
          production: { hosts: [web1, web2], approval: deployer, on_regression: rollback }
        hosts:
          web1: { transport: ssh, address: 10.0.0.11, port: 22, user: deploy, root: /srv/devsys,
                  identity: ~/.ssh/devsys_ed25519, known_hosts: ~/.ssh/known_hosts, url: "http://web1:8080" }
          web2: { transport: ssh, address: 10.0.0.12, user: deploy, root: /srv/devsys, url: "http://web2:8080" }
          dev1: { transport: local, root: ./hosts/dev1, url: "http://127.0.0.1:8081" }
        agents:
          coding:  { kind: opencode, timeout_s: 1800 }   # not script: the generated specs have no agent.sh
          testing: { parallel: 2 }
        notifications:
          - { name: team, kind: webhook, url: "http://127.0.0.1:9000/hook", secret_env: DEVSYS_WEBHOOK_SECRET,
              events: [deploy.failed, rollback, task.followup] }

        """

    private static func spec(id: String, slug: [String], index: Int, earlier: [String], using g: inout SeededGenerator) -> String {
        let kinds = ["feature", "feature", "bugfix", "chore", "followup"]
        // A followup names the task it follows up; the first task has none to name.
        let kind = earlier.isEmpty ? "feature" : kinds.randomElement(using: &g)!
        let app = apps.randomElement(using: &g)!
        let subject = slug.joined(separator: " ")
        let titles = ["Add the \(subject) page", "Fix \(subject) on mobile", "Speed up \(subject)", "Rework “\(subject)” for readers"]
        var lines: [String] = []
        lines.append("# Task \(index + 1): requested by the \(app) team")
        lines.append("id: \(id)")
        lines.append(
            Bool.random(using: &g)
                ? "title: \(titles.randomElement(using: &g)!)" : "title: \"\(titles.randomElement(using: &g)!): v\(index % 7 + 1)\""
        )
        lines.append("kind: \(kind)                  # feature | bugfix | chore | followup")
        lines.append("app: \(app)")
        if Bool.random(using: &g) {
            lines.append("story: As a reader I want the \(subject) page so that I can find what I need quickly.")
        } else {
            lines.append("story: >")
            lines.append("  As a member of the \(app) team I want \(subject)")
            lines.append("  to work on every device, so that readers stay.")
            lines.append("")
            lines.append("  Keep the current URLs working.")
        }
        lines.append("acceptance:                    # each is checked by the testing or deploy agent")
        for check in 0..<Int.random(in: 1...4, using: &g) {
            let page = "/\(slug[check % slug.count]).php"
            switch Int.random(in: 0..<3, using: &g) {
            case 0:
                lines.append("  - name: \(slug[check % slug.count]) page served")
                lines.append("    http: { path: \(page), status: 200, body_contains: \(slug[0].capitalized) }")
            case 1:
                lines.append("  - name: \"\(subject) check \(check + 1)\"")
                lines.append("    http:")
                lines.append("      path: \(page)?lang=en")
                lines.append("      status: \([200, 301, 302].randomElement(using: &g)!)")
            default:
                lines.append("  - name: unit tests \(check + 1)")
                lines.append("    run: php tests/run.php --filter \(slug[0])")
            }
        }
        if Bool.random(using: &g) {
            lines.append(
                "resource_requirements: { timeout_s: \(Int.random(in: 3...30, using: &g) * 60), memory_mb: \([512, 1024, 2048].randomElement(using: &g)!), cpus: \([1, 2].randomElement(using: &g)!) }"
            )
        } else {
            lines.append("resource_requirements:")
            lines.append("  timeout_s: 900")
            lines.append("  cpus: 0.5")
        }
        lines.append("tags: [\(slug.joined(separator: ", ")), \(app)]")
        let related = earlier.isEmpty || kind != "followup" ? [] : [earlier.randomElement(using: &g)!]
        lines.append("related_tasks: [\(related.joined(separator: ", "))]              # ids of other tasks")
        lines.append("expected_artifacts:")
        for artifact in slug {
            lines.append("  - apps/\(app)/\(artifact).php")
        }
        lines.append("  - 'apps/\(app)/templates/\(slug[0]).html'")
        if Bool.random(using: &g) {
            lines.append("retry_policy: { max_attempts: 3, backoff_s: 10, max_backoff_s: 600 }")
        } else {
            lines.append("retry_policy:")
            lines.append("  max_attempts: \(Int.random(in: 1...5, using: &g))")
            lines.append("  backoff_s: 30")
        }
        lines.append("agent: { capabilities: [php\(Bool.random(using: &g) ? ", frontend" : "")] } # which coding agent may take it")
        lines.append("review: \(Bool.random(using: &g) ? "required" : "auto")               # auto: merge when tests pass")
        lines.append("deploy: { env: \(environments.randomElement(using: &g)!) }       # where a merged task goes first")
        while lines.count < 25 {
            lines.insert("# notes: keep the change small; see docs/\(slug[0]).md", at: 1)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
