import Foundation
import Specs

/// A deploy that the infrastructure stopped after hosts switched: verification got no answer (the
/// web server down, the host unreachable) or a switch failed. Every host that switched is back on
/// what it served before; nothing is marked bad. The controller retries it with backoff.
public struct DeployOutage: DomainError {
    public var report: DeploymentAgent.Report

    public var code: String { "deploy_outage" }
    public var category: ErrorCategory { .unavailable }

    public var description: String {
        let back =
            report.rollout.nothingToRollBackTo
            ? "nothing to roll back to: no host serves a revision (as before the first deploy)"
            : "every host that switched is back on what it served before"
        return "\(report.rollout.failure ?? "the deploy did not finish") — an infrastructure failure, not the commit's: \(back); "
            + "\(report.commit.prefix(12)) is not marked bad"
    }
}

/// Why a deploy or rollback of an environment, or a read of its revisions, cannot go ahead.
public enum EnvironmentError: DomainError, Equatable {
    case unknownEnvironment(String, known: [String])
    /// The commit is marked bad in the environment; deploying it needs `force`.
    case badRevision(environment: String, commit: String, reason: String)
    case nothingToRollBackTo(String)
    case unknownTag(String, environment: String)
    /// Someone moved the env ref while it was being promoted.
    case refMoved(ref: String, commit: String)
    /// A deploy of this commit to the environment is running now.
    case deployRunning(environment: String, commit: String)

    public var code: String {
        switch self {
        case .unknownEnvironment: "environment_not_found"
        case .badRevision: "commit_marked_bad"
        case .nothingToRollBackTo: "nothing_to_roll_back_to"
        case .unknownTag: "deploy_tag_not_found"
        case .refMoved: "env_ref_moved"
        case .deployRunning: "deploy_running"
        }
    }

    public var category: ErrorCategory {
        switch self {
        case .unknownEnvironment, .unknownTag: .notFound
        case .badRevision, .nothingToRollBackTo, .refMoved, .deployRunning: .conflict
        }
    }

    public var description: String {
        switch self {
        case .unknownEnvironment(let name, let known):
            "no environment '\(name)' in devsys.yaml"
                + (known.isEmpty ? "; add one under 'environments'" : " (known: \(known.joined(separator: ", ")))")
        case .badRevision(let environment, let commit, let reason):
            "\(commit.prefix(12)) is marked bad in \(environment) (\(reason)); deploying it anyway (forced) clears the mark"
        case .nothingToRollBackTo(let environment):
            "\(environment) has no earlier deploy to roll back to"
        case .unknownTag(let tag, let environment):
            "no deploy tag '\(tag)' for \(environment)"
        case .refMoved(let ref, let commit):
            "\(ref) moved while promoting \(commit.prefix(12)); look at it and try again"
        case .deployRunning(let environment, let commit):
            "a deploy of \(commit.prefix(12)) to \(environment) is running now; follow it in the event log"
        }
    }
}

/// Why a deploy or rollback a person asked for did not happen.
public enum DeployInterrupted: DomainError {
    /// The deploy stopped before any host switched (a host unreachable or locked, an upload cut).
    /// `restoredTo`: where the env ref was put back; `kept`: the commit it was left on.
    case nothingSwitched(ref: String, reason: String, restoredTo: String?, kept: String?)
    /// Hosts switched, then verification got no answer (or a switch failed): they are back on
    /// what they served, nothing is marked bad. `removed`: the env ref was removed (a first deploy).
    case outage(DeployOutage, ref: String, restoredTo: String?, removed: Bool)

    public var code: String {
        switch self {
        case .nothingSwitched: "deploy_nothing_switched"
        case .outage: "deploy_outage"
        }
    }

    public var category: ErrorCategory { .unavailable }

    public var description: String {
        switch self {
        case .nothingSwitched(let ref, let reason, let restored, let kept):
            var text = reason + "\nnothing was switched"
            if let restored { text += "; \(ref) is back on \(restored.prefix(12))" }
            if let kept { text += "; \(ref) stays on \(kept.prefix(12)), which a running controller deploys when the hosts answer" }
            return text + "; nothing is marked bad: try again once the cause is fixed"
        case .outage(let outage, let ref, let restored, let removed):
            var text = outage.description
            if let restored { text += "\n\(ref) is back on \(restored.prefix(12))" }
            if removed { text += "\n\(ref) is removed again (it named nothing before)" }
            return text + "\nwhen the hosts and their web servers answer, deploy again (no force needed)"
        }
    }
}
