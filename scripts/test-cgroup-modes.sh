#!/usr/bin/env bash
# Runs the container integration suite (every test that starts crun containers and JVMs through
# the real milo binary: lifecycle, limits and OOM, stats, exec, signals, logs, 50 start/stop
# cycles) on pure cgroup v2 and on pure cgroup v1, each in a throw-away User-Mode Linux guest
# from ../shared/tools/cgroup2-vm. The guest's root is this machine's /, so it runs the test
# binaries built here: run scripts/test.sh (or `swift build --build-tests`) first.
#
# Usage: scripts/test-cgroup-modes.sh [v2] [v1] [-- swift test options]
#   default: v2 then v1, `--filter IntegrationTests`.
# Each guest's output goes to stdout and to .build/cgroup-modes/<mode>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
vm=../shared/tools/cgroup2-vm/run
if [ ! -x "$vm" ]; then
  echo "no cgroup2-vm tool at $vm: clone this repo beside the shared tools" >&2
  exit 1
fi
modes=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    v1 | v2) modes+=("$1") ;;
    *) echo "unknown mode $1 (expected v1 or v2)" >&2; exit 2 ;;
  esac
  shift
done
[ "${1:-}" = "--" ] && shift
[ ${#modes[@]} -gt 0 ] || modes=(v2 v1)
[ $# -gt 0 ] || set -- --filter IntegrationTests
if [ ! -x .build/debug/milo ] || ! ls .build/debug/*PackageTests.xctest >/dev/null 2>&1; then
  echo "no test build: run scripts/test.sh or swift build --build-tests first" >&2
  exit 1
fi

mkdir -p .build/cgroup-modes
failed=()
for mode in "${modes[@]}"; do
  log=.build/cgroup-modes/$mode.log
  echo "==> pure cgroup $mode guest: swift test --skip-build --no-parallel $*"
  start=$(date +%s)
  # The guest gets 4 GiB (a sparse file: only what it touches counts) and an hour at most.
  status=0
  "$vm" "--$mode" --mem 4G --timeout 3600 -- \
    swift test --skip-build --no-parallel "$@" 2>&1 | tee "$log" || status=$?
  echo "==> pure cgroup $mode guest: exit $status after $(($(date +%s) - start)) s (log: $log)"
  [ "$status" -eq 0 ] || failed+=("$mode")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed on cgroup ${failed[*]}" >&2
  exit 1
fi
