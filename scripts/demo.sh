#!/usr/bin/env bash
# milo's main job, end to end on this machine: builds milo and NomadHost (a Nomad client
# emulator), builds a Java application, and runs it as a Nomad job with driver "milo" in a crun
# container. Its logs stream live in this terminal, read back from Nomad-style rotated log files
# exactly as `nomad alloc logs -f` would. Ctrl-C stops the job like `nomad job stop` and prints
# the final status. Non-interactive runs stop by themselves after DEMO_SECONDS (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
if [ "$(id -u)" -ne 0 ]; then
  echo "milo creates containers: run this demo as root (sudo $0)" >&2
  exit 1
fi
scripts/install-deps.sh
echo "==> building milo and nomad-host"
swift build --product milo
swift build --product nomad-host
scripts/build-testapp.sh >/dev/null
stop=()
if [ ! -t 0 ] || [ -n "${DEMO_SECONDS:-}" ]; then stop=(--stop-after "${DEMO_SECONDS:-15}"); fi
echo "==> running examples/demo.json (Ctrl-C stops the job)"
exec .build/debug/nomad-host run examples/demo.json --plugin .build/debug/milo --follow \
  --data-dir /tmp/milo-demo "${stop[@]}"
