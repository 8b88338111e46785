#!/usr/bin/env bash
# Sets up, builds devsys and runs the main job on the embedded default: a control repository
# whose example spec (specs/001-about-page) is coded by its script agent on task/001-about-page,
# tested (JUnit note), approved and merged into main.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --product devsys
devsys="$PWD/.build/debug/devsys"
demo=$(mktemp -d "${TMPDIR:-/tmp}/devsys-demo.XXXXXX")
cd "$demo"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "devsys init --bare blog.git   (a control repository with an example spec)"
"$devsys" init --bare blog.git
"$devsys" validate --repo blog.git

step "devsys run --until-idle       (coding agent → branch, testing agent → JUnit note)"
"$devsys" run --until-idle --timeout 300 --repo blog.git
"$devsys" tasks --repo blog.git
git -C blog.git log --format='%h %an: %s' main..task/001-about-page
"$devsys" report 001-about-page --repo blog.git

step "review like a pull request"
"$devsys" pr show 001-about-page --repo blog.git
"$devsys" pr approve 001-about-page --repo blog.git
"$devsys" pr merge 001-about-page --repo blog.git
"$devsys" task show 001-about-page --repo blog.git
git -C blog.git log --oneline --graph main

echo
echo "demo repository: $demo/blog.git"
