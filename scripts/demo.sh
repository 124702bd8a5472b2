#!/usr/bin/env bash
# milo's main job under a real Nomad agent: builds the static release plugin, starts a Nomad
# v1.1.2 dev agent on loopback with milo in its plugin_dir, serves the test JAR over HTTP, runs
# examples/demo.nomad.hcl and follows its logs with `nomad alloc logs -f`. The web UI is at
# http://127.0.0.1:7646/ui/ meanwhile. Ctrl-C (or DEMO_SECONDS, default 15 when not on a
# terminal) stops the job with `nomad job stop`, prints `nomad alloc status` and stops the agent.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
if [ "$(id -u)" -ne 0 ]; then
  echo "milo creates containers: run this demo as root (sudo $0)" >&2
  exit 1
fi
scripts/install-deps.sh
if ! command -v nomad >/dev/null; then ../shared/tools/nomad/install; fi
echo "==> building the release milo plugin and its per-task helper"
archive="$(scripts/build-release.sh | tail -1)"
jar="$(scripts/build-testapp.sh)"

demo=/tmp/milo-demo
export NOMAD_ADDR=http://127.0.0.1:7646
# A previous demo's agent, and the secrets mounts it may have left.
pkill -f "nomad agent -dev -config $demo/agent.hcl" 2>/dev/null && sleep 2 || true
grep -o " $demo/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l || true
rm -rf "$demo" && mkdir -p "$demo/plugins"
tar -xzf "$archive" -C "$demo/plugins"   # milo and milo.d/milo-task, as an operator installs them
cat > "$demo/agent.hcl" <<HCL
data_dir             = "$demo/data"
plugin_dir           = "$demo/plugins"
bind_addr            = "127.0.0.1"
disable_update_check = true
ports {
  http = 7646
  rpc  = 7647
  serf = 7648
}
client {
  options = {
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
}
plugin "milo" {
  config {}
}
HCL

python3 -m http.server 7600 --bind 127.0.0.1 --directory "$(dirname "$jar")" >"$demo/http.log" 2>&1 &
http=$!
nomad agent -dev -config "$demo/agent.hcl" >"$demo/agent.log" 2>&1 &
agent=$!
follow=""
finish() {
  local status=$?
  set +e
  [ -n "$follow" ] && kill "$follow" 2>/dev/null
  if [ -n "${alloc:-}" ]; then
    echo "==> nomad job stop demo"
    nomad job stop demo >/dev/null || true
    for _ in $(seq 50); do
      [ "$(nomad alloc status -t '{{.ClientStatus}}' "$alloc" 2>/dev/null)" != running ] && break
      sleep 0.2
    done
    nomad alloc status "$alloc" | sed -n '/^Recent Events/,$p'
  fi
  kill -INT "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
  kill "$http" 2>/dev/null && wait "$http" 2>/dev/null
  echo "==> agent stopped (its log: $demo/agent.log)"
  exit "$status"
}
trap finish EXIT
trap 'exit 0' INT TERM

echo "==> starting a Nomad dev agent with milo in its plugin_dir"
for i in $(seq 300); do
  if nomad node status -self -verbose 2>/dev/null | grep -Eq '^milo +true +true'; then break; fi
  if ! kill -0 "$agent" 2>/dev/null || [ "$i" = 300 ]; then
    echo "the agent did not become ready with a healthy milo driver:" >&2
    tail -30 "$demo/agent.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "==> nomad job run examples/demo.nomad.hcl   (web UI: $NOMAD_ADDR/ui/)"
nomad job run -detach -var "artifact=http://127.0.0.1:7600/testapp.jar" examples/demo.nomad.hcl
for _ in $(seq 100); do
  # Nomad v1.1 has no `nomad job allocs`: ask the HTTP API for the job's allocation.
  alloc="$(python3 -c 'import json, sys, urllib.request as u
allocs = json.load(u.urlopen(sys.argv[1] + "/v1/job/demo/allocations"))
print(allocs[0]["ID"] if allocs else "")' "$NOMAD_ADDR" 2>/dev/null || true)"
  [ -n "$alloc" ] && break
  sleep 0.1
done
if [ -z "$alloc" ]; then
  echo "the demo job got no allocation; see nomad job status demo and $demo/agent.log" >&2
  exit 1
fi
echo "==> nomad alloc logs -f $alloc java-app   (Ctrl-C stops the job)"
for _ in $(seq 100); do nomad alloc logs "$alloc" java-app >/dev/null 2>&1 && break; sleep 0.1; done
nomad alloc logs -f "$alloc" java-app &
follow=$!
if [ -t 0 ] && [ -z "${DEMO_SECONDS:-}" ]; then
  wait "$follow" || true
else
  sleep "${DEMO_SECONDS:-15}"
fi
