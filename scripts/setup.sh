#!/usr/bin/env bash
# Installs what devsys needs to build and test on Debian 12, when it is missing.
# Needs a Swift 6.1+ toolchain on PATH (swift.org's Linux build); everything else comes from apt.
set -euo pipefail

# iproute2 (ip netns), curl and rsync serve the deploy tests and benchmarks; bubblewrap is the agent sandbox.
packages=(libgit2-dev libssh2-1-dev libsqlite3-dev pkg-config git openssh-server php-cli python3 python3-jsonschema python3-yaml iproute2 curl rsync bubblewrap)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The schema-agreement test runs `python3` from PATH; a python3 other than Debian's (pyenv, say)
# needs its own jsonschema and PyYAML.
if ! python3 -c 'import jsonschema, yaml' 2>/dev/null; then
    echo "setup: installing jsonschema and PyYAML for $(command -v python3)"
    python3 -m pip install --quiet jsonschema pyyaml
fi

command -v swift >/dev/null || {
    echo "setup: no swift on PATH; install a Swift 6.1+ toolchain (https://www.swift.org/install/linux/) and retry" >&2
    exit 1
}
