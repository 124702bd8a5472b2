#!/usr/bin/env bash
# Builds the test and demo application (Tests/Fixtures/testapp) into a JAR.
# Usage: scripts/build-testapp.sh [OUTPUT_DIR]   (default .build/testapp); prints the JAR's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/.build/testapp}"
src="$root/Tests/Fixtures/testapp/src"
jar="$out/testapp.jar"
if [ -f "$jar" ] && [ -z "$(find "$src" -newer "$jar" -name '*.java' | head -1)" ]; then
  echo "$jar"
  exit 0
fi
mkdir -p "$out/classes"
javac -nowarn -XDignore.symbol.file -d "$out/classes" "$src"/milo/*.java 2>/dev/null \
  || javac -d "$out/classes" "$src"/milo/*.java
printf 'Main-Class: milo.TestApp\n' > "$out/manifest.txt"
jar cfm "$jar.tmp" "$out/manifest.txt" -C "$out/classes" milo
mv "$jar.tmp" "$jar"
echo "$jar"
