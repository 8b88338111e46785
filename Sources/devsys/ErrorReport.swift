import Actions
import ControlRepository
import Environments
import Foundation
import Pipeline
import Specs
import Store

/// How the CLI reports an error that ends a command: `devsys: <message>` on stderr, followed by
/// the command that fixes it where there is one (remedies that are CLI commands live here, not in
/// the domain); with `--json`, also `{"error": {"code", "message"}}` on stdout. The exit status
/// comes from the error's category (`ErrorCategory.exitStatus`).
enum ErrorReport {
    /// Prints `error` and returns the exit status.
    static func report(_ error: any DomainError, json: Bool) -> Int32 {
        var text = "devsys: \(error)"
        if let remedy = remedy(for: error) { text += "\n" + remedy }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        if json, let body = try? jsonBody(error) { print(body) }
        return error.category.exitStatus
    }

    /// `{"error": {"code": …, "message": …}}`, as the HTTP API answers.
    static func jsonBody(_ error: any DomainError) throws -> String {
        struct Body: Encodable {
            struct Detail: Encodable {
                var code: String
                var category: String
                var message: String
            }
            var error: Detail
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Body(error: .init(code: error.code, category: error.category.rawValue, message: "\(error)"))
        return String(decoding: try encoder.encode(body), as: UTF8.self)
    }

    /// The command that fixes or explains `error`, for a person at a terminal.
    static func remedy(for error: any DomainError) -> String? {
        switch error {
        case let error as PipelineError:
            switch error {
            case .invalidConfig: return "check it with: devsys validate --ref main"
            case .invalidSpec(let id, _): return "check it with: devsys validate specs/\(id)"
            case .unknownTask: return "'devsys tasks' lists the tasks"
            case .notApproved(let id): return "approve it with: devsys pr approve \(id)"
            case .noBranch(let id): return "'devsys task show \(id)' says where it is"
            case .wrongState(let id, _, _): return "'devsys task show \(id)' says where it is"
            case .branchMoved, .trunkKeepsMoving: return nil
            }
        case let error as EnvironmentError:
            switch error {
            case .unknownEnvironment: return nil
            case .badRevision(let environment, let commit, _):
                return "deploy it anyway with: devsys deploy \(environment) --rev \(commit.prefix(12)) --force"
            case .nothingToRollBackTo(let environment), .unknownTag(_, let environment):
                return "'devsys revisions \(environment)' lists its deploys"
            case .refMoved(let ref, _): return "see where it is with: git log -1 \(ref)"
            case .deployRunning: return "follow it with: devsys events --follow"
            }
        case is DeployInterrupted: return "run the same devsys deploy again once the hosts answer ('devsys hosts check' tries them)"
        case let error as ReportError:
            if case .none(let id, _, _) = error { return "'devsys task show \(id)' says where it is" }
            return nil
        case let error as ControllerError:
            if case .alreadyRunning = error { return "'devsys notify' wakes the running controller" }
            return nil
        case let error as ControlRepositoryError:
            if case .invalidConfig = error { return "check it with: devsys validate --ref main" }
            return nil
        case let error as StoreError:
            switch error {
            case .taskNotFound: return "run 'devsys reindex' if its spec is on the trunk"
            case .schemaTooNew: return "or move the file aside and run 'devsys reindex'"
            default: return nil
            }
        default:
            return nil
        }
    }
}
