#!/usr/bin/env bash
# Builds milo and runs every test: unit tests, and integration tests that drive the real plugin
# binary through NomadHost with real crun containers and JVMs. Needs root (containers).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
scripts/install-deps.sh
swift build --product milo
swift build --product nomad-host
swift test --no-parallel "$@"
