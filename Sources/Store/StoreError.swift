import Foundation
import Specs

/// What went wrong in the state database, with the file or the record it concerns and, where a user
/// can act, what to do.
public enum StoreError: DomainError, Equatable {
    /// The database file could not be opened or is not a devsys state database.
    case cannotOpen(path: String, reason: String)
    /// The file was written by a newer devsys whose schema this one does not know.
    case schemaTooNew(path: String, unknownMigrations: [String])
    /// SQLite refused an operation on an open database.
    case database(path: String, operation: String, message: String)
    case taskNotFound(id: String)
    case jobNotFound(id: Int64)
    /// `worker` tried to renew, complete or fail a job it no longer holds: its lease expired and the
    /// job went to another worker (`holder`), or the job is no longer leased at all.
    case leaseLost(jobID: Int64, worker: String, holder: String?, state: JobState)
    /// Only a dead job can be requeued.
    case jobNotDead(id: Int64, state: JobState)

    public var code: String {
        switch self {
        case .cannotOpen: "store_unavailable"
        case .schemaTooNew: "store_schema_too_new"
        case .database: "store_failed"
        case .taskNotFound: "task_not_found"
        case .jobNotFound: "job_not_found"
        case .leaseLost: "job_lease_lost"
        case .jobNotDead: "job_not_dead"
        }
    }

    public var category: ErrorCategory {
        switch self {
        case .cannotOpen, .schemaTooNew: .unavailable
        case .database: .failed
        case .taskNotFound, .jobNotFound: .notFound
        case .leaseLost, .jobNotDead: .conflict
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open the devsys state database \(path): \(reason)"
        case .schemaTooNew(let path, let unknown):
            return "the devsys state database \(path) was written by a newer devsys (unknown migrations: "
                + "\(unknown.joined(separator: ", "))); upgrade devsys, or move the file aside and rebuild it from git"
        case .database(let path, let operation, let message):
            return "devsys state database \(path): cannot \(operation): \(message)"
        case .taskNotFound(let id):
            return "no task \(id) in the state database"
        case .jobNotFound(let id):
            return "no job \(id) in the state database"
        case .leaseLost(let jobID, let worker, let holder, let state):
            let now = holder.map { "is leased by \($0)" } ?? "is \(state.rawValue)"
            return "worker \(worker) no longer holds the lease on job \(jobID): it \(now)"
        case .jobNotDead(let id, let state):
            return "job \(id) is \(state.rawValue), not dead: only a dead job can be requeued"
        }
    }
}
