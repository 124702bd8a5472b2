#!/usr/bin/env bash
# Builds milo and runs every test: unit tests, integration tests that drive the real plugin
# binary through NomadHost with real crun containers and JVMs, and the end-to-end suite that runs
# the static release binary under a real Nomad agent (skipped, saying so, when no `nomad` binary
# is found). Needs root (containers).
#
# A full run (no arguments) then runs the container integration suite again on pure cgroup v2
# and pure cgroup v1, each in a User-Mode Linux guest (scripts/test-cgroup-modes.sh, needs
# ../shared/tools/cgroup2-vm; MILO_CGROUP_MODES=0 skips it).
#
# Usage: scripts/test.sh [swift test options, e.g. --filter EndToEndTests]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
scripts/install-deps.sh
# The real Nomad agent for the end-to-end suite, from the shared tools beside this clone.
if ! command -v nomad >/dev/null && [ -x ../shared/tools/nomad/install ]; then
  ../shared/tools/nomad/install
fi
scripts/build-release.sh
swift build --product milo
swift build --product milo-task
swift build --product nomad-host
swift test --no-parallel "$@"
if [ $# -eq 0 ] && [ "${MILO_CGROUP_MODES:-1}" != 0 ]; then
  scripts/test-cgroup-modes.sh v2 v1
fi
