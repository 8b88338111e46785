import Actions
import ArgumentParser
import ControlRepository
import Deploy
import Environments
import Foundation
import Pipeline
import Store

extension Devsys {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the whole picture: tasks by state, what each environment serves, the job queue, the last error.",
            discussion: """
                Reads the control repository's store and refs (from a clone too: the
                control repository is found as --repo says). Changes nothing.

                  tasks         how many tasks are in each state, and which
                  environments  the commit refs/heads/env/<env> names, the live
                                deploy (tag deploy/<env>/<NNNN>) and, per host,
                                the deploy tag that lists it; "pending" when
                                the env ref names something else than is live
                  jobs          pending, running (leased) and dead (given up):
                                the running ones, the next pending, the latest
                                dead ones
                  last error    the latest failure in the event log

                  devsys status
                  devsys status --hosts      also ask each host what it serves
                  devsys status --json | jq .jobs.dead

                Exit status: 0 ok, 1 no control repository or state found.
                """
        )

        @OptionGroup var options: ControllerOptions

        @Flag(help: "Also connect to each environment's hosts and read what they serve.")
        var hosts = false

        @Flag(help: "Print the status as JSON.")
        var json = false

        func run() async throws {
            let (location, state, store) = try options.openLocatedStore()
            let control = location.control
            let plane = try ControlPlane(repositoryPath: options.repositoryPath(of: control), state: state, store: store)
            let actor = localPrincipal(control: control)
            let status = try await plane.status(by: actor)
            var hostStates: [String: [DeploymentAgent.HostState]]?
            var hostProblems: [String: String]?
            if hosts {
                defer { plane.connections.closeAll() }
                let read = try await plane.hostStates(by: actor)
                hostStates = read.hosts
                hostProblems = read.problems.isEmpty ? nil : read.problems
            }
            let output = StatusOutput(
                repository: control.displayPath,
                foundBy: location.foundBy,
                state: state.url.path,
                status: status,
                hostStates: hostStates,
                hostProblems: hostProblems
            )
            if json { return try printJSON(output) }
            print(output.text, terminator: "")
        }
    }
}

/// What `devsys status` prints: the status, where it was read, and with `--hosts` what the hosts said.
struct StatusOutput: Encodable {
    var repository: String
    var foundBy: String
    var state: String
    var status: ControllerStatus
    var hostStates: [String: [DeploymentAgent.HostState]]?
    /// Per environment, why its hosts could not be asked at all.
    var hostProblems: [String: String]?

    enum CodingKeys: String, CodingKey {
        case repository, foundBy, state, hostStates, hostProblems
    }

    func encode(to encoder: Encoder) throws {
        try status.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(repository, forKey: .repository)
        try container.encode(foundBy, forKey: .foundBy)
        try container.encode(state, forKey: .state)
        try container.encodeIfPresent(hostStates, forKey: .hostStates)
        try container.encodeIfPresent(hostProblems, forKey: .hostProblems)
    }

    var text: String {
        var out = "control repository: \(foundBy)\nstate: \(state)\n\n"
        let tasks = status.tasks
        out += "tasks: \(tasks.total)" + (tasks.total == 0 ? " (commit specs/<id>/task.yaml to the trunk)" : "") + "\n"
        var table = TextTable()
        for state in TaskState.allCases {
            let ids = tasks.ids[state.rawValue] ?? []
            guard !ids.isEmpty else { continue }
            let shown = ids.prefix(8).joined(separator: " ") + (ids.count > 8 ? " … and \(ids.count - 8) more" : "")
            table.add(["  \(state.rawValue)", "\(ids.count)", shown])
        }
        out += table.text

        out += "\nenvironments:"
        if let problem = status.environmentsProblem {
            out += " cannot list them: \(problem)\n"
        } else if status.environments.isEmpty {
            out += " none in devsys.yaml\n"
        } else {
            out += "\n"
            for environment in status.environments { out += environmentText(environment) }
        }

        let jobs = status.jobs
        out += "\njobs: \(jobs.pending) pending, \(jobs.running) running, \(jobs.dead) dead, \(jobs.done) done\n"
        var queue = TextTable()
        for job in jobs.runningJobs {
            let lease = job.leaseExpires.map { ", lease until \(localTime($0))" } ?? ""
            queue.add(["  running", "#\(job.id)", jobLine(job) + " (attempt \(job.attempts)/\(job.maxAttempts), \(job.leaseOwner ?? "?")\(lease))"])
        }
        for job in jobs.pendingJobs {
            let due = job.notBefore.map { $0 > Date() ? ", not before \(localTime($0))" : "" } ?? ""
            queue.add([
                "  pending", "#\(job.id)", jobLine(job) + (job.attempts > 0 ? " (attempt \(job.attempts + 1)/\(job.maxAttempts)\(due))" : due),
            ])
        }
        if jobs.pending > jobs.pendingJobs.count { queue.add(["  pending", "", "… and \(jobs.pending - jobs.pendingJobs.count) more"]) }
        for job in jobs.deadJobs {
            queue.add(["  dead", "#\(job.id)", jobLine(job) + ": " + oneLine(job.lastError ?? "no error recorded", limit: 120)])
        }
        if jobs.dead > jobs.deadJobs.count { queue.add(["  dead", "", "… and \(jobs.dead - jobs.deadJobs.count) older"]) }
        out += queue.text

        if let error = status.lastError {
            out += "\nlast error: \(localTime(error.at)) \(error.taskID ?? "-") \(error.kind): \(oneLine(error.message, limit: 200))\n"
        } else {
            out += "\nlast error: none\n"
        }
        return out
    }

    private func jobLine(_ job: ControllerStatus.JobLine) -> String {
        "\(job.step) \(job.subject) at \(shortHex(job.inputCommit))"
    }

    private func environmentText(_ environment: ControllerStatus.Environment) -> String {
        var out = "  \(environment.name): "
        if let live = environment.live {
            out += "live \(environment.liveTag ?? "(untagged)") \(shortHex(live))" + (environment.liveSince.map { " since \(localTime($0))" } ?? "")
        } else {
            out += "nothing deployed yet"
        }
        if environment.pending, let desired = environment.desired {
            out += "; env/\(environment.name) names \(shortHex(desired)): a deploy is pending or failed"
        } else if environment.desired == nil {
            out += "; env/\(environment.name) not set"
        }
        out += "\n"
        var table = TextTable()
        for host in environment.hosts {
            let state =
                host.live ? "live" : host.deploy == nil ? "never deployed" : "not in the live deploy (last \(shortHex(host.commit ?? "")))"
            table.add(["    \(host.host)", host.deploy ?? "-", state])
        }
        out += table.text
        if let problem = hostProblems?[environment.name] {
            out += "    asked: cannot ask the hosts: \(oneLine(problem, limit: 160))\n"
        }
        for host in hostStates?[environment.name] ?? [] {
            if let error = host.error {
                out += "    asked \(host.host)/\(host.app): cannot read: \(oneLine(error, limit: 120))\n"
            } else {
                let matches = host.liveCommit != nil && host.liveCommit == environment.live
                out +=
                    "    asked \(host.host)/\(host.app): "
                    + (host.live.map { "serves \($0)" + (matches ? "" : " (not the live commit)") } ?? "serves nothing") + "\n"
            }
        }
        return out
    }
}
