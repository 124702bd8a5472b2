#!/usr/bin/env bash
# Installs what milo needs on a fresh Debian 12 machine: an OCI runtime, a JDK (javac and jar
# build the test and demo JARs), and iproute2 for network namespaces. Idempotent.
set -euo pipefail
packages=(crun openjdk-17-jdk-headless iproute2 procps)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
swift --version | head -1
crun --version | head -1
java -version 2>&1 | head -1
