#!/usr/bin/env bash
# Sets up, builds devsys and runs the main job on the embedded default: a new control
# repository with an example spec, validated.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --product devsys
devsys="$PWD/.build/debug/devsys"
demo=$(mktemp -d "${TMPDIR:-/tmp}/devsys-demo.XXXXXX")
"$devsys" init "$demo/blog"
cd "$demo/blog"
git log --oneline
"$devsys" validate
echo "demo repository: $demo/blog"
