#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift format lint --strict --recursive Sources Tests   # the style of .swift-format, enforced
swift build --build-tests
# The process-runner and agent tests time child processes; they run on their own so that the
# many tests blocking on subprocesses elsewhere never hold the two cooperative threads of a
# two-core machine while those tests wait for a timer.
swift test --skip-build --skip AgentsTests --skip BenchmarkTests
swift test --skip-build --filter AgentsTests
# Every benchmark's quick mode (devsys-bench --quick NAME), one after the other and on their own:
# they start controllers, sshd and sandboxed agents that would compete with the tests above for
# the two cores, and a benchmark waits for the work it times with bounds of its own.
swift test --skip-build --filter BenchmarkTests
