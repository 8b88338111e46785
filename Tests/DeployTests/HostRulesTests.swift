import Foundation
import Hosts
import Specs
import Testing

@testable import Deploy

/// The deployer refuses what devsys.yaml's validation refuses, for the same reason: one rule each
/// (`ProjectConfig+HostRules`), so a config that validates never fails here.
@Suite struct HostRulesTests {
    @Test("HostDeployer refuses a root or an app name with the rule validation reports")
    func deployerUsesTheValidationRules() throws {
        let root = "/srv/devsys\n"
        let rootReason = try #require(ProjectConfig.Host.rootProblem(root))
        #expect(throws: DeployError.invalidName(what: "host root", value: root, reason: rootReason)) {
            try HostDeployer(transport: LocalTransport(), app: "blog", root: root)
        }
        let app = "blog.lock"
        let appReason = try #require(ProjectConfig.nameProblem(app))
        #expect(throws: DeployError.invalidName(what: "app name", value: app, reason: appReason)) {
            try HostDeployer(transport: LocalTransport(), app: app, root: "/srv/devsys")
        }
        #expect(ProjectConfig.parse(Data("apps:\n  blog.lock: { path: app }\n".utf8), path: "devsys.yaml").config == nil)
    }

    @Test("an ssh host whose address or user validation refuses gets no connection")
    func connectionsUseTheValidationRules() throws {
        let connections = HostConnections(baseFolder: "/tmp")
        let withPort = ProjectConfig.Host(name: "web1", address: "10.0.0.1:2222", user: "deploy", root: "/srv/devsys")
        let reason = try #require(ProjectConfig.Host.addressProblem("10.0.0.1:2222"))
        #expect(throws: HostTransportError.incompleteHost(host: "web1", reason: "'address' is '10.0.0.1:2222', which \(reason)")) {
            try connections.sshHost(withPort)
        }
        let spaced = ProjectConfig.Host(name: "web2", address: "10.0.0.2", user: "deploy user", root: "/srv/devsys")
        #expect(throws: HostTransportError.self) { try connections.sshHost(spaced) }
        let fine = ProjectConfig.Host(name: "web3", address: "fe80::1%eth0", user: "www-data", root: "/srv/devsys")
        #expect(try connections.sshHost(fine).address == "fe80::1%eth0")
    }
}
