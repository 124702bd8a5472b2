#!/usr/bin/env bash
# Builds the release binary that goes into Nomad's plugin_dir, with the Swift runtime linked
# statically, and checks that it needs no Swift shared library.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product milo --static-swift-stdlib
binary=.build/release/milo
if ldd "$binary" | grep -i swift; then
  echo "FAIL: $binary links a Swift shared library" >&2
  exit 1
fi
echo "ok: $binary has no Swift shared library dependencies ($(du -h "$binary" | cut -f1))"
