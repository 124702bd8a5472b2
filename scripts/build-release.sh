#!/usr/bin/env bash
# Builds what an operator installs: the milo plugin and its per-task helper, release builds with
# the Swift runtime linked statically, stripped, laid out as they go into Nomad's plugin_dir:
#
#   .build/milo-release/milo                the plugin Nomad launches
#   .build/milo-release/milo.d/milo-task    each task's supervisor and container init
#
# and packed as one archive, .build/milo-linux-<arch>.tar.gz, whose path it prints last.
# Install: tar -xzf .build/milo-linux-<arch>.tar.gz -C /opt/nomad/plugins
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product milo --static-swift-stdlib >&2
swift build -c release --product milo-task --static-swift-stdlib >&2
out=.build/milo-release
rm -rf "$out"
mkdir -p "$out/milo.d"
strip -o "$out/milo" .build/release/milo
strip -o "$out/milo.d/milo-task" .build/release/milo-task
chmod 0755 "$out" "$out/milo.d" "$out/milo" "$out/milo.d/milo-task"
archive=".build/milo-linux-$(uname -m).tar.gz"
tar -C "$out" --owner=0 --group=0 -czf "$archive" milo milo.d
echo "$archive"
