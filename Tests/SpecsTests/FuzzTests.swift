import Foundation
import TestSupport
import Testing

@testable import Specs

/// Whatever bytes arrive in a push, validation answers with well-formed diagnostics and never
/// traps. Seeded, so a failure names the seed and input index that reproduce it.
@Suite("fuzzing")
struct FuzzTests {
    static let taskSeeds: [String] = [
        Fixtures.taskYAML,
        Fixtures.spec(id: "002-login", extra: "story: >\n  As a user\n  I log in.\nrelated_tasks: [001-about-page]\n"),
        """
        id: "003-contact"
        title: 'Contact page: a form'
        kind: bugfix
        app: blog
        acceptance:
        - name: form
          http:
            path: /contact.php
            status: 200
            body_contains: "Écrivez-nous"
        - name: tests
          run: |
            php tests/run.php
        tags:
          - frontend
          - forms
        expected_artifacts:
          - app/contact.php
        deploy:
          env: production
        """,
    ]

    /// Checks what every diagnostic must be, whatever the input.
    static func checkWellFormed(_ diagnostics: [Diagnostic], pathPrefix: String, input: [UInt8], context: @autoclosure () -> String) -> Bool {
        // libyaml also breaks lines at CR, NEL, LS and PS: allow for them in the line bound.
        let breaks = input.reduce(0) { $0 + ($1 == 0x0A || $1 == 0x0D || $1 == 0x85 || $1 == 0xA8 || $1 == 0xA9 ? 1 : 0) }
        for diagnostic in diagnostics {
            guard diagnostic.path.hasPrefix(pathPrefix), !diagnostic.path.isEmpty, diagnostic.line >= 1, diagnostic.column >= 1,
                diagnostic.line <= breaks + 2, !diagnostic.message.isEmpty,
                diagnostic.description.hasPrefix("\(diagnostic.path):\(diagnostic.line):\(diagnostic.column): ")
            else {
                Issue.record("malformed diagnostic \(diagnostic) for \(context())")
                return false
            }
        }
        return true
    }

    @Test("100,000 random and mutated inputs through TaskSpec.parse and the tree validator")
    func taskSpecs() async {
        await onOwnThread(Self.fuzzTaskSpecs)
    }

    static func fuzzTaskSpecs() {
        let seed: UInt64 = 0x5EED_0001
        var rng = SeededGenerator(seed: seed)
        let seeds = FuzzTests.taskSeeds.map { Array($0.utf8) }
        let validator = Fixtures.validator
        let allIDs: Set<String> = ["001-about-page", "002-login", "003-contact"]
        let specMD = Array(Fixtures.specMD.utf8)
        let tasksMD = Array(Fixtures.tasksMD.utf8)
        var accepted = 0
        for index in 0..<100_000 {
            let input =
                index % 10 == 0
                ? Mutator.randomBytes(using: &rng) : Mutator.mutate(seeds[index % seeds.count], using: &rng)
            let describe = { "seed \(seed) input \(index): \(String(decoding: input, as: UTF8.self).debugDescription)" }
            let (spec, diagnostics) = TaskSpec.parse(Data(input), path: "specs/x/task.yaml")
            guard FuzzTests.checkWellFormed(diagnostics, pathPrefix: "specs/x/task.yaml", input: input, context: describe()) else { return }
            if (spec == nil) != diagnostics.containsErrors {
                Issue.record("spec is \(spec == nil ? "nil" : "set") but errors are \(diagnostics.errors) for \(describe())")
                return
            }
            if spec != nil { accepted += 1 }

            if index % 4 == 0 {
                var files = ["task.yaml": Data(input)]
                if index % 8 == 0 { files["spec.md"] = Data(Mutator.mutate(specMD, using: &rng)) }
                if index % 16 == 0 { files["tasks.md"] = Data(Mutator.mutate(tasksMD, using: &rng)) }
                let folder = SpecFolder(path: "specs/002-login", files: files)
                let treeDiagnostics = validator.validate(folders: [folder], allTaskIDs: allIDs)
                let longest = max(input.count, files.values.map(\.count).max() ?? 0)
                guard
                    FuzzTests.checkWellFormed(
                        treeDiagnostics,
                        pathPrefix: "specs/002-login",
                        input: Array(repeating: 0x0A, count: longest),
                        context: describe()
                    )
                else { return }
            }
        }
        // The mutations must leave some specs valid, or the fuzzer only tests the error paths.
        #expect(accepted > 1_000, "only \(accepted) mutated specs were valid")
    }

    @Test("20,000 mutated devsys.yaml and checks.yaml files")
    func configs() async {
        await onOwnThread(Self.fuzzConfigs)
    }

    static func fuzzConfigs() {
        let seed: UInt64 = 0x5EED_0002
        var rng = SeededGenerator(seed: seed)
        let config = Array(Fixtures.devsysYAML.utf8)
        let checks = Array(Fixtures.checksYAML.utf8)
        let parsedConfig = ProjectConfig.parse(Fixtures.data(Fixtures.devsysYAML), path: "devsys.yaml").config
        for index in 0..<10_000 {
            let mutatedConfig = Mutator.mutate(config, using: &rng)
            let configResult = ProjectConfig.parse(Data(mutatedConfig), path: "devsys.yaml")
            guard FuzzTests.checkWellFormed(configResult.diagnostics, pathPrefix: "devsys.yaml", input: mutatedConfig, context: "config \(index)")
            else { return }
            if (configResult.config == nil) != configResult.diagnostics.containsErrors {
                Issue.record("config \(index): result and errors disagree")
                return
            }
            let validator = SpecTreeValidator(config: ("devsys.yaml", Data(mutatedConfig)))
            guard FuzzTests.checkWellFormed(validator.configDiagnostics, pathPrefix: "devsys.yaml", input: mutatedConfig, context: "config \(index)")
            else { return }

            let mutatedChecks = Mutator.mutate(checks, using: &rng)
            let checksResult = MonitoringChecks.parse(Data(mutatedChecks), path: "monitoring/checks.yaml", config: parsedConfig)
            guard FuzzTests.checkWellFormed(checksResult.diagnostics, pathPrefix: "monitoring/", input: mutatedChecks, context: "checks \(index)")
            else { return }
            let fileDiagnostics = MonitoringChecksFile.validate(Data(mutatedChecks), config: validator)
            guard FuzzTests.checkWellFormed(fileDiagnostics, pathPrefix: "monitoring/", input: mutatedChecks, context: "checks \(index)")
            else { return }
        }
    }

    @Test("deep nesting is refused, not a stack overflow")
    func deepNesting() {
        for text in [
            String(repeating: "[", count: 100_000), "a: " + String(repeating: "{a: ", count: 50_000),
            String(repeating: "- ", count: 100_000) + "x", (0..<600).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n"),
        ] {
            let (spec, diagnostics) = TaskSpec.parse(Fixtures.data(text), path: "task.yaml")
            #expect(spec == nil)
            #expect(diagnostics.errors.count == 1)
            #expect(diagnostics.errors.first?.message.contains("nested too deeply") == true, "\(diagnostics)")
        }
        // Just under the limit still parses (through libyaml) without trouble.
        let nested = "a: " + String(repeating: "[", count: 150) + String(repeating: "]", count: 150) + "\n&x b: *x\n"
        let (_, diagnostics) = TaskSpec.parse(Fixtures.data(nested), path: "task.yaml")
        #expect(!diagnostics.contains { $0.message.contains("nested too deeply") || $0.message.contains("invalid YAML") })
    }

    @Test("alias bombs are refused instead of expanding")
    func aliasBomb() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
            previous = name
        }
        let (spec, diagnostics) = TaskSpec.parse(Fixtures.data(text), path: "task.yaml")
        #expect(spec == nil)
        #expect(
            diagnostics.errors.summary == [
                "1:1: YAML expands to more than 100000 values through anchors and aliases; write the values out instead of repeating aliases"
            ]
        )
    }
}

/// Runs CPU-bound work on a thread of its own, so that it does not hold one of the few
/// cooperative threads (two on a two-core machine) that tests waiting on timers and child
/// processes need; issues it records still fail the run.
func onOwnThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread.detachNewThread {
            body()
            continuation.resume()
        }
    }
}
