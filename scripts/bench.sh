#!/usr/bin/env bash
# Builds the release binaries (milo, milo-bench) and runs every benchmark (`milo-bench all`).
# The markdown report (machine, every benchmark's details, the summary table for BENCHMARKS.md)
# is printed and saved to .build/bench/report-<UTC time>.md. Needs root, crun and a JDK, as milo does.
#
# Before measuring it waits for a quiet machine: 1-minute load average below 0.5, polled every
# 30 s for up to 20 minutes (then it measures anyway, and the report shows the load).
#
# Usage: scripts/bench.sh [--no-wait] [milo-bench all options, e.g. --quick]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

wait_quiet=1
if [ "${1:-}" = "--no-wait" ]; then
  wait_quiet=0
  shift
fi

scripts/install-deps.sh
scripts/build-release.sh
# milo-bench links FoundationNetworking (the Nomad benchmarks' HTTP client), which Swift's static
# SDK cannot link without libcurl's static archive: it is built with the shared Swift runtime.
swift build -c release --product milo-bench

if [ "$wait_quiet" = 1 ]; then
  for i in $(seq 1 40); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" 'BEGIN { exit !(l < 0.5) }'; then
      echo "load average $load: quiet"
      break
    fi
    if [ "$i" = 40 ]; then
      echo "load average $load: still busy after 20 minutes; measuring anyway"
      break
    fi
    echo "load average $load: waiting for a quiet machine ($i/40)"
    sleep 30
  done
fi

mkdir -p .build/bench
report=".build/bench/report-$(date -u +%Y%m%dT%H%M%SZ).md"
.build/release/milo-bench all --milo "$PWD/.build/milo-release/milo" --output "$report" "$@"
echo "report: $report"
