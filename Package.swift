// swift-tools-version:6.1
import PackageDescription

// Layers, bottom up: C shims (CGit2, CSSH2, CPosix) → one safe wrapper per C library (Git, SSH; SQLite is wrapped by
// GRDB) → the domain (Specs, ControlRepository, Store, Processes, Agents, Hosts, Probes, Deploy, Environments, Pipeline) →
// the control plane (Actions) → the services (Runtime) → the thin `devsys` executable (argument parsing and printing).
// `devsys-bench` measures the domain against the tools users would use instead.
let package = Package(
    name: "devsys",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "devsys", targets: ["devsys"]),
        .executable(name: "devsys-bench", targets: ["devsys-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // SHA-256 for host key fingerprints (known_hosts keys libssh2 does not hash for us).
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .systemLibrary(
            name: "CSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // glibc's GNU extensions (pipe2, posix_spawn_file_actions_addchdir_np, …), which Swift's
        // Glibc module leaves out: they are declared only under _GNU_SOURCE.
        .target(name: "CPosix"),
        .target(name: "Git", dependencies: ["CGit2"]),
        .target(name: "SSH", dependencies: ["CSSH2", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Specs", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Store", dependencies: ["Specs", .product(name: "GRDB", package: "GRDB.swift")]),
        // Child processes (their own process group, a timeout that stops the whole tree, capped
        // output) and the pool of threads blocking work runs on.
        .target(name: "Processes", dependencies: ["CPosix", .product(name: "NIOPosix", package: "swift-nio")]),
        .target(name: "Agents", dependencies: ["Git", "Specs", "ControlRepository", "Processes"]),
        // Reaching a host: the transports (one long-lived SSH shell, or a folder here) and the open connections.
        .target(name: "Hosts", dependencies: ["Git", "SSH", "Specs", "Processes"]),
        // HTTP and TCP probes (AsyncHTTPClient, NIO): deploy verification asks them now, the monitor's checks next.
        .target(
            name: "Probes",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(name: "Deploy", dependencies: ["Git", "SSH", "Specs", "Hosts", "Probes"]),
        // What `devsys init` commits and the git hooks it installs, shipped as resources of the
        // binary, with the PHP host kit. The top-level `repo-template`, `hooks` and `deploy` link to these folders.
        .target(name: "DevsysResources", resources: [.copy("repo-template"), .copy("hooks"), .copy("host-kit")]),
        .target(name: "ControlRepository", dependencies: ["Git", "Specs", "DevsysResources"]),
        // The deployment agent and what it keeps: env refs, deploy tags and bad marks, deploy records, drift.
        .target(name: "Environments", dependencies: ["ControlRepository", "Store", "Deploy", "Hosts", "Git", "Specs"]),
        // The reconciler and the job steps (coding, testing, merge, deploy), dead jobs, retry,
        // reindex, reviews and test reports: what turns git into work and work into git.
        .target(
            name: "Pipeline",
            dependencies: ["ControlRepository", "Store", "Agents", "Environments", "Deploy", "Hosts", "Processes"]
        ),
        // The control plane: every action a person takes and every read a client shows, with roles,
        // audit and error codes. The CLI calls it; the HTTP API, the monitor and the notifier will.
        .target(name: "Actions", dependencies: ["Pipeline", "Environments", "ControlRepository", "Store", "Hosts", "Specs", "Git"]),
        // The services of `serve` and `run --until-idle` (swift-service-lifecycle) and the app
        // factory that builds them for the CLI and the tests.
        .target(
            name: "Runtime",
            dependencies: [
                "Actions", "Pipeline", "Environments", "ControlRepository", "Store", "Hosts", "Processes",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "devsys",
            dependencies: [
                "ControlRepository", "Actions", "Runtime", "Pipeline", "Environments", "Store", "Deploy", "Probes", "Hosts", "SSH", "Git",
                "Processes", "Specs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "devsys-bench",
            dependencies: [
                "Git", "SSH", "Specs", "Store", "ControlRepository", "Actions", "Runtime", "Pipeline", "Environments", "Deploy", "Hosts",
                "Processes", "TestSupport",
            ]
        ),
        // What the tests share that runs real programs: an sshd on 127.0.0.1 with generated keys, php -S.
        .target(name: "TestSupport", dependencies: ["SSH", "CPosix"], path: "Tests/TestSupport"),
        .testTarget(name: "GitTests", dependencies: ["Git", "TestSupport"]),
        .testTarget(name: "SSHTests", dependencies: ["SSH", "TestSupport"]),
        .testTarget(name: "SpecsTests", dependencies: ["Specs", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Specs", "TestSupport"]),
        .testTarget(name: "AgentsTests", dependencies: ["Agents", "Processes", "TestSupport"]),
        .testTarget(name: "DeployTests", dependencies: ["Deploy", "Hosts", "SSH", "Probes", "TestSupport"]),
        .testTarget(name: "ControlRepositoryTests", dependencies: ["ControlRepository"]),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Actions", "Runtime", "Pipeline", "Environments", "Deploy", "Probes", "Hosts", "TestSupport"]
        ),
        .testTarget(name: "CLITests", dependencies: ["devsys", "TestSupport"]),
        // Runs `devsys-bench --quick NAME` for each benchmark, the binary built next to the tests.
        .testTarget(name: "BenchmarkTests", dependencies: ["TestSupport"]),
    ]
)
