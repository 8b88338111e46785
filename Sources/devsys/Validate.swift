import ArgumentParser
import ControlRepository
import Foundation
import Git
import Specs

extension Devsys {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check task specs, devsys.yaml and monitoring checks.",
            discussion: """
                Every problem is reported at once, as path:line:column: error: message.

                  devsys validate                     the files on disk in a work tree: what
                                                      you would commit (bare: the trunk)
                  devsys validate specs/002-login     spec folders or files on disk; also
                                                      devsys.yaml (rechecks every spec) and
                                                      monitoring/checks.yaml
                  devsys validate --ref main          the committed tree of a branch or tag
                  devsys validate --rev main~3..main  only the specs changed in that range
                  devsys validate --staged            the specs staged for the next commit

                Exit status: 0 all valid, 1 problems found (a path that does not exist is
                one), 2 usage error.
                """
        )

        @OptionGroup var repository: LocalRepositoryOptions

        @Option(
            help: ArgumentHelp(
                "Check only the specs changed in OLD..NEW, as they are in NEW (a single REV checks its whole tree).",
                valueName: "old..new"
            )
        )
        var rev: String?

        @Option(
            help: ArgumentHelp(
                "Check the committed tree of REF (a branch, tag or commit). With --rev, for hooks: check the range only when "
                    + "REF is the trunk named in devsys.yaml; other refs pass.",
                valueName: "ref"
            )
        )
        var ref: String?

        @Flag(help: "Check the specs staged in the index (what the pre-commit hook runs).")
        var staged = false

        @Flag(help: "Print the result as JSON.")
        var json = false

        @Argument(
            help: ArgumentHelp(
                "Spec folders or files, devsys.yaml or monitoring/checks.yaml on disk (default: the whole work tree).",
                valueName: "path"
            )
        )
        var paths: [String] = []

        func validate() throws {
            let modes = [rev != nil || ref != nil, staged, !paths.isEmpty].filter { $0 }.count
            if modes > 1 {
                throw ValidationError("use one of --rev (with --ref for hooks), --ref, --staged or paths, not several")
            }
        }

        func run() throws {
            let control = try repository.open()
            let report: ValidationReport
            do {
                guard let checked = try check(control) else { return }
                report = checked
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure("validate: \(error)")
            }
            if json {
                try printJSON(ValidationOutput(report))
            } else {
                for diagnostic in report.diagnostics { print(diagnostic) }
                print(summary(of: report))
            }
            if !report.isValid { throw ExitCode.failure }
        }

        /// The report for the chosen mode, or nil when there is nothing to check (a hook's push to
        /// a ref other than the trunk, or a deleted ref).
        private func check(_ control: ControlRepository) throws -> ValidationReport? {
            if staged {
                return try control.validateStaged()
            }
            if !paths.isEmpty {
                guard let root = control.repository.workingDirectory else {
                    throw CommandFailure("validate: \(control.repository.gitDirectory.path) is bare; paths need a work tree")
                }
                return try ControlRepository.validate(paths: paths, root: root)
            }
            if let rev {
                let range = try RevisionRange(rev, in: control.repository)
                guard let new = range.new else { return nil }
                if let ref, ref != ControlRefs.branch(control.trunk(at: new)) { return nil }
                return try control.validate(from: range.old, to: new)
            }
            if let ref {
                let commit: ObjectID
                do {
                    commit = try control.repository.resolve(ref)
                } catch {
                    throw CommandFailure("validate: \(ControlRepositoryError.unknownRevision(ref, underlying: "\(error)"))")
                }
                return try control.validate(commit: commit)
            }
            if let root = control.repository.workingDirectory {
                return try ControlRepository.validateWorkTree(root: root)
            }
            return try control.validate(commit: try control.trunkCommit().commit)
        }

        /// "devsys.yaml, monitoring/checks.yaml and 3 specs checked: valid".
        private func summary(of report: ValidationReport) -> String {
            let specs = report.checkedFolders.count == 1 ? "1 spec" : "\(report.checkedFolders.count) specs"
            let parts = report.checkedFiles + (report.checkedFolders.isEmpty && !report.checkedFiles.isEmpty ? [] : [specs])
            let checked = parts.count == 1 ? parts[0] : parts.dropLast().joined(separator: ", ") + " and " + parts[parts.count - 1]
            let errors = report.diagnostics.filter { $0.severity == .error }.count
            if errors == 0 { return "\(checked) checked: valid" }
            return "\(checked) checked: \(errors) error\(errors == 1 ? "" : "s")"
        }
    }
}

/// `OLD..NEW` or `REV`, where git's all-zero id means "no commit" (a created or deleted ref, as
/// hooks see it).
struct RevisionRange {
    var old: ObjectID?
    var new: ObjectID?

    init(_ text: String, in repository: Repository) throws {
        let parts = text.components(separatedBy: "..")
        guard parts.count <= 2, !parts.contains(where: \.isEmpty) else {
            throw CommandFailure("validate: \(ControlRepositoryError.badRevisionRange(text))")
        }
        func resolve(_ revision: String) throws -> ObjectID? {
            if revision.allSatisfy({ $0 == "0" }) { return nil }
            do {
                return try repository.resolve(revision)
            } catch {
                throw CommandFailure("validate: \(ControlRepositoryError.unknownRevision(revision, underlying: "\(error)"))")
            }
        }
        if parts.count == 1 {
            new = try resolve(parts[0])
        } else {
            old = try resolve(parts[0])
            new = try resolve(parts[1])
        }
    }
}

/// The JSON shape of `devsys validate --json`.
struct ValidationOutput: Encodable {
    struct Problem: Encodable {
        var path: String
        var line: Int
        var column: Int
        var severity: String
        var message: String
    }

    var valid: Bool
    /// devsys.yaml and monitoring/checks.yaml when checked, then the spec folders.
    var checked: [String]
    var diagnostics: [Problem]

    init(_ report: ValidationReport) {
        valid = report.isValid
        checked = report.checkedFiles + report.checkedFolders
        diagnostics = report.diagnostics.map {
            Problem(path: $0.path, line: $0.line, column: $0.column, severity: $0.severity == .error ? "error" : "warning", message: $0.message)
        }
    }
}
