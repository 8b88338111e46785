import Actions
import ControlRepository
import Environments
import Foundation
import Pipeline
import Specs
import Store
import Testing

/// Every error of the domain carries a stable code and a category, and each category maps to an
/// exit status, an HTTP status and an audit outcome. The lists below name every case of every
/// domain error type: the `switch`es without a default stop the build when a case is added
/// without a sample here.
@Suite struct DomainErrorTests {
    static let commit = String(repeating: "ab", count: 20)

    static var samples: [any DomainError] {
        let pipeline: [PipelineError] = [
            .invalidConfig("abc"), .invalidSpec("001-a", "abc"), .unknownTask("001-a"), .wrongState("001-a", .coding, expected: "in review"),
            .noBranch("001-a"), .notApproved("001-a"), .branchMoved("001-a"), .trunkKeepsMoving("001-a"),
        ]
        let environment: [EnvironmentError] = [
            .unknownEnvironment("prod", known: ["staging"]), .badRevision(environment: "prod", commit: commit, reason: "rolled back"),
            .nothingToRollBackTo("prod"), .unknownTag("0009", environment: "prod"), .refMoved(ref: "refs/heads/env/prod", commit: commit),
            .deployRunning(environment: "prod", commit: commit),
        ]
        let interrupted: [DeployInterrupted] = [
            .nothingSwitched(ref: "refs/heads/env/prod", reason: "h1: cannot connect", restoredTo: commit, kept: nil)
        ]
        let refusals: [ActionRefusal] = [
            .roleTooLow(actor: "Vic", role: .viewer, needed: .deployer, action: "deploy to prod"),
            .unknownRevision("nope", reason: "not found"), .cancelled(taskID: "001-a", reason: "superseded"),
            .cannotCancel(taskID: "001-a", state: .merged),
        ]
        let reports: [ReportError] = [.none(taskID: "001-a", commit: commit, state: .testing)]
        let controller: [ControllerError] = [.alreadyRunning("/srv/state"), .lock("/srv/state/controller.lock", "Permission denied")]
        let repository: [ControlRepositoryError] = [
            .notARepository("/x", underlying: "not found", source: "--repo"), .noRepositoryAround("/x"), .noState(lookedAt: ["/x"]),
            .noTrunk("/x"), .badRevisionRange("a..b..c"), .unknownRevision("nope", underlying: "not found"), .notInTree("/x"),
            .notValidatable("/x"), .templateMissing("/x"), .destinationNotEmpty("/x"), .invalidConfig(commit: "abc"),
        ]
        let store: [StoreError] = [
            .cannotOpen(path: "/x", reason: "denied"), .schemaTooNew(path: "/x", unknownMigrations: ["v9"]),
            .database(path: "/x", operation: "write", message: "disk full"), .taskNotFound(id: "001-a"), .jobNotFound(id: 7),
            .leaseLost(jobID: 7, worker: "w", holder: nil, state: .done), .jobNotDead(id: 7, state: .done),
        ]
        for error in pipeline { Self.cover(error) }
        for error in environment { Self.cover(error) }
        for error in interrupted { Self.cover(error) }
        for error in refusals { Self.cover(error) }
        for error in controller { Self.cover(error) }
        for error in repository { Self.cover(error) }
        for error in store { Self.cover(error) }
        let failure = DeployOutcome.Failure(EnvironmentError.nothingToRollBackTo("prod"))
        return pipeline + environment + interrupted + refusals + reports + controller + repository + store + [failure]
    }

    @Test func everyDomainErrorHasACodeACategoryAndAnExitStatus() {
        var categories: [String: ErrorCategory] = [:]
        for error in Self.samples {
            let code = error.code
            #expect(code.range(of: "^[a-z]+(_[a-z]+)*$", options: .regularExpression) != nil, "\(type(of: error)): code '\(code)'")
            #expect(ErrorCategory.allCases.contains(error.category))
            #expect(error.category.exitStatus == 1, "\(code)")
            #expect([400, 403, 404, 409, 500, 503].contains(error.category.httpStatus), "\(code)")
            #expect(!error.description.isEmpty)
            // One code means one kind of failure wherever it is thrown.
            if let seen = categories[code] { #expect(seen == error.category, "\(code) is \(seen) and \(error.category)") }
            categories[code] = error.category
            // Remedies that are CLI commands live with the CLI, not in what the HTTP API returns too.
            let command = #"devsys (pr|task|tasks|deploy|rollback|validate|revisions|reindex|restore|run|serve|notify|init|events|audit|status)\b"#
            #expect(error.description.range(of: command, options: .regularExpression) == nil || error is ControlRepositoryError, "\(error)")
        }
        #expect(categories.count >= 30, "\(categories.count) distinct codes")
    }

    @Test func theCategoryDecidesTheAuditOutcome() {
        #expect(Store.auditOutcome(of: ActionRefusal.cannotCancel(taskID: "001-a", state: .merged)).hasPrefix("refused: "))
        #expect(Store.auditOutcome(of: PipelineError.unknownTask("001-a")) == "refused: no task 001-a")
        #expect(Store.auditOutcome(of: EnvironmentError.refMoved(ref: "refs/heads/env/prod", commit: Self.commit)).hasPrefix("refused: "))
        let interrupted = DeployInterrupted.nothingSwitched(ref: "refs/heads/env/prod", reason: "h1: no route", restoredTo: nil, kept: nil)
        #expect(Store.auditOutcome(of: interrupted).hasPrefix("failed: h1: no route nothing was switched"))
        #expect(Store.auditOutcome(of: CocoaError(.fileNoSuchFile)).hasPrefix("failed: "), "an error from outside the domain failed")
    }

    // The exhaustive switches: a new case must get a sample above.
    static func cover(_ error: PipelineError) {
        switch error {
        case .invalidConfig, .invalidSpec, .unknownTask, .wrongState, .noBranch, .notApproved, .branchMoved, .trunkKeepsMoving: break
        }
    }

    static func cover(_ error: EnvironmentError) {
        switch error {
        case .unknownEnvironment, .badRevision, .nothingToRollBackTo, .unknownTag, .refMoved, .deployRunning: break
        }
    }

    static func cover(_ error: DeployInterrupted) {
        switch error {
        case .nothingSwitched, .outage: break
        }
    }

    static func cover(_ error: ActionRefusal) {
        switch error {
        case .roleTooLow, .unknownRevision, .cancelled, .cannotCancel: break
        }
    }

    static func cover(_ error: ControllerError) {
        switch error {
        case .alreadyRunning, .lock: break
        }
    }

    static func cover(_ error: ControlRepositoryError) {
        switch error {
        case .notARepository, .noRepositoryAround, .noState, .noTrunk, .badRevisionRange, .unknownRevision, .notInTree, .notValidatable,
            .templateMissing, .destinationNotEmpty, .invalidConfig:
            break
        }
    }

    static func cover(_ error: StoreError) {
        switch error {
        case .cannotOpen, .schemaTooNew, .database, .taskNotFound, .jobNotFound, .leaseLost, .jobNotDead: break
        }
    }
}
