#!/usr/bin/env bash
# Builds the release archive (scripts/build-release.sh) and checks what goes into Nomad's
# plugin_dir: both binaries need no Swift shared library, carry no symbol table, and the plugin
# accepts its helper (same protocol version).
set -euo pipefail
cd "$(dirname "$0")/.."
archive="$(scripts/build-release.sh | tail -1)"
for binary in .build/milo-release/milo .build/milo-release/milo.d/milo-task; do
  if ldd "$binary" | grep -i swift; then
    echo "FAIL: $binary links a Swift shared library" >&2
    exit 1
  fi
  if readelf -S "$binary" | grep -q '\.symtab'; then
    echo "FAIL: $binary is not stripped" >&2
    exit 1
  fi
  echo "ok: $binary: no Swift shared library, stripped ($(du -h "$binary" | cut -f1))"
done
.build/milo-release/milo.d/milo-task protocol
echo "ok: $archive ($(du -h "$archive" | cut -f1))"
