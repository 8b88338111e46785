#!/usr/bin/env bash
# Sets up, builds devsys and runs the main job on the embedded default: `devsys demo` creates a
# control repository whose example spec (specs/001-about-page) is coded by its script agent on
# task/001-about-page, tested (JUnit note), approved and merged, then deployed to the example's
# `local` host (served by php -S with devsys's router), verified over HTTP and tagged
# deploy/staging/0001. Extra arguments go to `devsys demo` (e.g. --serve, --dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --product devsys
exec "$PWD/.build/debug/devsys" demo "$@"
