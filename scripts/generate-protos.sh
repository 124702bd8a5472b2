#!/usr/bin/env bash
# Regenerates the Swift protobuf + gRPC code in Sources/NomadProto/Generated
# from the .proto files under Protos/.
#
# Usage:
#   scripts/generate-protos.sh                  # use existing protoc plugins
#   scripts/generate-protos.sh --build-plugins  # build the plugins first
#
# Environment:
#   PROTOC                 protoc binary (default: protoc on PATH)
#   PROTOC_INCLUDE         dir holding google/protobuf/*.proto (default: autodetect)
#   PROTOC_GEN_SWIFT       protoc-gen-swift binary
#   PROTOC_GEN_GRPC_SWIFT  protoc-gen-grpc-swift-2 binary
#   PLUGIN_BUILD_DIR       where --build-plugins puts its temp package
#
# The plugin versions must match the runtime libraries in Package.swift:
# apple/swift-protobuf 1.39.0 and grpc/grpc-swift-protobuf 2.4.1.
set -euo pipefail

SWIFT_PROTOBUF_VERSION="1.39.0"
GRPC_SWIFT_PROTOBUF_VERSION="2.4.1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROTO_DIR="$ROOT/Protos"
OUT_DIR="$ROOT/Sources/NomadProto/Generated"

DEFAULT_PLUGIN_DIR="/tmp/protoc-plugins/.build/release"
BUILD_PLUGINS=0

for arg in "$@"; do
  case "$arg" in
    --build-plugins) BUILD_PLUGINS=1 ;;
    -h|--help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

# Build both plugins in a throwaway SwiftPM package.
build_plugins() {
  local dir="${PLUGIN_BUILD_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/milo-protoc-plugins.XXXXXX")}"
  echo "==> building protoc plugins in $dir" >&2
  mkdir -p "$dir/Sources/Dummy"
  echo "// placeholder so the package has a target" > "$dir/Sources/Dummy/Dummy.swift"
  cat > "$dir/Package.swift" <<EOF
// swift-tools-version:6.1
import PackageDescription
let package = Package(
  name: "protoc-plugins",
  dependencies: [
    .package(url: "https://github.com/apple/swift-protobuf.git", exact: "$SWIFT_PROTOBUF_VERSION"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "$GRPC_SWIFT_PROTOBUF_VERSION"),
  ],
  targets: [.target(name: "Dummy", path: "Sources/Dummy")]
)
EOF
  (cd "$dir" && swift build -c release --product protoc-gen-swift >&2)
  (cd "$dir" && swift build -c release --product protoc-gen-grpc-swift-2 >&2)
  local bin
  bin="$(cd "$dir" && swift build -c release --show-bin-path)"
  PROTOC_GEN_SWIFT="$bin/protoc-gen-swift"
  PROTOC_GEN_GRPC_SWIFT="$bin/protoc-gen-grpc-swift-2"
}

if [[ "$BUILD_PLUGINS" == 1 ]]; then
  build_plugins
fi

PROTOC="${PROTOC:-protoc}"
PROTOC_GEN_SWIFT="${PROTOC_GEN_SWIFT:-$DEFAULT_PLUGIN_DIR/protoc-gen-swift}"
PROTOC_GEN_GRPC_SWIFT="${PROTOC_GEN_GRPC_SWIFT:-$DEFAULT_PLUGIN_DIR/protoc-gen-grpc-swift-2}"

missing=0
for p in "$PROTOC_GEN_SWIFT" "$PROTOC_GEN_GRPC_SWIFT"; do
  if [[ ! -x "$p" ]]; then
    echo "error: protoc plugin not found: $p" >&2
    missing=1
  fi
done
if [[ "$missing" == 1 ]]; then
  cat >&2 <<EOF

Build the plugins with:  $0 --build-plugins
or by hand: create a SwiftPM package depending on
  https://github.com/apple/swift-protobuf.git        exact: $SWIFT_PROTOBUF_VERSION
  https://github.com/grpc/grpc-swift-protobuf.git    exact: $GRPC_SWIFT_PROTOBUF_VERSION
then run in it:
  swift build -c release --product protoc-gen-swift
  swift build -c release --product protoc-gen-grpc-swift-2
and point PROTOC_GEN_SWIFT / PROTOC_GEN_GRPC_SWIFT at the resulting binaries.
EOF
  exit 1
fi

if ! command -v "$PROTOC" >/dev/null 2>&1; then
  echo "error: protoc not found (install protobuf-compiler, or set PROTOC)" >&2
  exit 1
fi

# Locate the well-known types (google/protobuf/*.proto).
if [[ -z "${PROTOC_INCLUDE:-}" ]]; then
  for d in /usr/include /usr/local/include /opt/homebrew/include \
           "$(dirname "$(command -v "$PROTOC")")/../include"; do
    if [[ -f "$d/google/protobuf/duration.proto" ]]; then
      PROTOC_INCLUDE="$d"
      break
    fi
  done
fi
if [[ -z "${PROTOC_INCLUDE:-}" || ! -f "$PROTOC_INCLUDE/google/protobuf/duration.proto" ]]; then
  echo "error: cannot find google/protobuf/*.proto; set PROTOC_INCLUDE" >&2
  exit 1
fi

# Deterministic, sorted list of protos relative to Protos/.
mapfile -t PROTOS < <(cd "$PROTO_DIR" && find . -name '*.proto' -type f | sed 's|^\./||' | LC_ALL=C sort)
if [[ "${#PROTOS[@]}" == 0 ]]; then
  echo "error: no .proto files under $PROTO_DIR" >&2
  exit 1
fi

echo "==> $("$PROTOC" --version), ${#PROTOS[@]} proto files" >&2

# Wipe previously generated code.
mkdir -p "$OUT_DIR"
find "$OUT_DIR" -maxdepth 1 -type f \( -name '*.pb.swift' -o -name '*.grpc.swift' \) -delete

cd "$PROTO_DIR"
"$PROTOC" \
  -I "$PROTO_DIR" \
  -I "$PROTOC_INCLUDE" \
  --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
  --plugin=protoc-gen-grpc-swift="$PROTOC_GEN_GRPC_SWIFT" \
  --swift_out="$OUT_DIR" \
  --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
  --grpc-swift_out="$OUT_DIR" \
  --grpc-swift_opt=Visibility=Public,Client=true,Server=true,FileNaming=PathToUnderscores \
  "${PROTOS[@]}"

# protoc-gen-grpc-swift-2 (2.4.1) does not escape Swift keywords in method
# names: Nomad's `rpc Init` becomes `func init(...)`, which does not compile.
# Backtick-escape it at declarations and call sites (the generator itself never
# emits `self.init(`, so those are always calls to the RPC method). The wire
# method name stays "Init" (it lives in the MethodDescriptor string).
for f in "$OUT_DIR"/*.grpc.swift; do
  if grep -qE 'func init[(<]' "$f"; then
    sed -i.bak -E \
      -e 's/func init([(<])/func `init`\1/g' \
      -e 's/self\.init\(/self.`init`(/g' \
      "$f"
    rm -f -- "$f.bak"
  fi
done

# Files without services produce a gRPC stub containing only a header; drop them.
while IFS= read -r f; do
  rm -f -- "$f"
done < <(grep -l 'This file contained no services' "$OUT_DIR"/*.grpc.swift || true)

echo "==> generated into ${OUT_DIR#"$ROOT"/}:" >&2
(cd "$OUT_DIR" && LC_ALL=C ls -1 -- *.swift) >&2
