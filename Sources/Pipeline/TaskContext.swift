import ControlRepository
import Foundation
import Git
import Specs
import Store

/// What a job needs to know about its task, read from the trunk as it is now.
struct TaskContext {
    let repository: Repository
    let trunkCommit: ObjectID
    let spec: TaskSpec
    let config: ProjectConfig

    static func load(task: TaskRecord, repositoryPath: String) throws -> TaskContext {
        let repository = try Repository.open(at: repositoryPath)
        let control = ControlRepository(repository)
        let trunk = try control.trunkCommit()
        let (config, snapshots) = try control.specs(named: [task.id], at: trunk.commit)
        guard let config else { throw PipelineError.invalidConfig(trunk.commit.short) }
        guard let snapshot = snapshots.first, snapshot.isValid, let spec = snapshot.spec else {
            throw PipelineError.invalidSpec(task.id, trunk.commit.short)
        }
        return TaskContext(repository: repository, trunkCommit: trunk.commit, spec: spec, config: config)
    }
}
