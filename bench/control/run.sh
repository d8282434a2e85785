#!/usr/bin/env bash
# Control API benchmarks (docs/PERFORMANCE.md "Control API"): a node with no sources on a free
# loopback port and a temporary data directory, two functions deployed through the API, then
#   a. sync invoke (?dryRun=true) with wrk over keep-alive: -t1 -c1 for latency, -t2 -c16 for
#      throughput; a builtin (threshold, the demo site's rack-inlet) and an ONNX function
#      (pump-health on a 256-sample vibration block, so the model runs on every call);
#   b. wrk throughput of GET /healthz and GET /api/v1/functions;
#   c. deploy to first invocation: deploy a new version, invoke until the answer names it;
#   d. artifact upload: PUT /api/v1/artifacts of UPLOAD_MIB random MiB (new bytes each run, so
#      each is received to disk, hashed, fsynced and stored), median of REPS runs with curl.
# Builds nothing: $SIE is the sie binary (default build/sie, from the repository root).
#
#   bench/control/run.sh                       # from the repository root
#   SIE=build-bench/sie DURATION=5 REPS=3 DEPLOYS=20 ONNX_DEPLOYS=5 bench/control/run.sh
#
# DURATION: seconds per wrk run; REPS: wrk runs per point (the report gives medians);
# DEPLOYS / ONNX_DEPLOYS: deploys timed for the builtin / ONNX function. KEEP=DIR keeps the node's
# log, the manifests and wrk's raw output in DIR.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
SIE=${SIE:-build/sie}
DURATION=${DURATION:-10}
REPS=${REPS:-3}
DEPLOYS=${DEPLOYS:-20}
ONNX_DEPLOYS=${ONNX_DEPLOYS:-5}
UPLOAD_MIB=${UPLOAD_MIB:-256}

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$SIE" ] || { echo "run.sh: no sie binary at $SIE (set SIE=...)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sie-bench-control.XXXXXX")
out=${KEEP:-$tmp}
mkdir -p "$out"
node_pid=""
cleanup() {
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The quietest site: no sources, no sinks, no live summary; functions come from the API only.
cat >"$tmp/site.yaml" <<'EOF'
apiVersion: sie/v1
kind: Site
metadata: {name: bench-control}
spec:
  summaryInterval: 0
  sources: []
  security: {callsPerSecond: 0}   # wrk's one caller would otherwise meet the per-caller rate
EOF

"$SIE" run --config "$tmp/site.yaml" --data-dir "$tmp/data" --http 127.0.0.1:0 -q \
  >"$out/node.log" 2>&1 &
node_pid=$!

# Port 0 picks a free port; the node logs the one it bound.
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*http on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$out/node.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$out/node.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "run.sh: the node never reported its port" >&2; cat "$out/node.log" >&2; exit 1; }
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -sf -o /dev/null "$base/readyz" && break
  sleep 0.1
done
curl -sf -o /dev/null "$base/readyz" || { echo "run.sh: /readyz never answered 200" >&2; exit 1; }
# Every call authenticates as the admin the node's first start created (wrk reads SIE_TOKEN).
SIE_TOKEN=$(head -n 1 "$tmp/data/security/admin.token")
export SIE_TOKEN
auth="Authorization: Bearer $SIE_TOKEN"

# Manifests: the demo site's, version 1; the model by absolute path (relative paths of an
# API-deployed manifest resolve against the node's data directory).
builtin=rack-inlet
onnx=pump-health
cp "$root/examples/demo-site/functions/$builtin.yaml" "$out/$builtin.yaml"
sed "s#^  handler: .*#  handler: $root/models/pump-health.onnx#" \
  "$root/examples/demo-site/functions/$onnx.yaml" >"$out/$onnx.yaml"
for fn in "$builtin" "$onnx"; do
  code=$(curl -s -o "$tmp/deploy.json" -w '%{http_code}' -X POST -H "$auth" -H 'Content-Type: application/yaml' \
    --data-binary "@$out/$fn.yaml" "$base/api/v1/functions")
  case "$code" in 200 | 201) ;; *) echo "run.sh: deploy $fn answered $code: $(cat "$tmp/deploy.json")" >&2; exit 1 ;; esac
done

# Readings: one inlet temperature; one 256-sample vibration block (pump-health's whole window).
echo '{"sensor":"datacenter/rack1/inlet_temp","value":24.5}' >"$out/$builtin.json"
python3 - "$out/$onnx.json" <<'EOF'
import json, math, sys
values = [round(0.5 * math.sin(2 * math.pi * 650 * i / 25600) + 0.1 * math.sin(i), 4) for i in range(256)]
json.dump({"sensor": "rotating/pump1/vibration", "values": values, "period_ns": 39062}, open(sys.argv[1], "w"))
EOF
for fn in "$builtin" "$onnx"; do
  answer=$(curl -s -w ' %{http_code}' -X POST -H "$auth" -H 'Content-Type: application/json' \
    --data-binary "@$out/$fn.json" "$base/api/v1/functions/$fn/invoke?dryRun=true")
  case "$answer" in
    *'"function":"'"$fn"'@1"'*' 200') ;;
    *) echo "run.sh: invoke $fn answered: $answer" >&2; exit 1 ;;
  esac
  echo "$fn: ${answer% 200}" >>"$out/answers.txt"
done

# One point: REPS wrk runs, the median of each figure, the sums of errors.
# Prints: label rps p50_us p99_us non2xx socket_errors
point() {
  local label=$1 threads=$2 conns=$3 url=$4 body=${5:-}
  local results=()
  for _ in $(seq "$REPS"); do
    local log
    log=$(wrk -t"$threads" -c"$conns" -d"${DURATION}s" --latency -s "$here/invoke.lua" "$url" -- "$body")
    printf '### %s -t%s -c%s %s\n%s\n\n' "$label" "$threads" "$conns" "$url" "$log" >>"$out/wrk.log"
    results+=("$(grep '^RESULT ' <<<"$log")")
  done
  printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
label = sys.argv[1]
rows = [dict(kv.split("=") for kv in line.split()[1:]) for line in sys.stdin if line.strip()]
med = lambda k: statistics.median(float(r[k]) for r in rows)
tot = lambda k: sum(int(r[k]) for r in rows)
print("%s %.0f %.0f %.0f %d %d" % (label, med("rps"), med("p50_us"), med("p99_us"),
                                  tot("non2xx"), tot("socket_errors")))
' "$label"
}

invoke_url() { echo "$base/api/v1/functions/$1/invoke?dryRun=true"; }
rows=()
rows+=("$(point "invoke-$builtin-c1" 1 1 "$(invoke_url "$builtin")" "$out/$builtin.json")")
rows+=("$(point "invoke-$builtin-c16" 2 16 "$(invoke_url "$builtin")" "$out/$builtin.json")")
rows+=("$(point "invoke-$onnx-c1" 1 1 "$(invoke_url "$onnx")" "$out/$onnx.json")")
rows+=("$(point "invoke-$onnx-c16" 2 16 "$(invoke_url "$onnx")" "$out/$onnx.json")")
rows+=("$(point "GET-/healthz-c16" 2 16 "$base/healthz")")
rows+=("$(point "GET-/api/v1/functions-c16" 2 16 "$base/api/v1/functions")")

# Deploy to first invocation: from sending the deploy to the first invoke answer naming the new
# version, one keep-alive connection (a curl per request would add ~10 ms of process start).
deploy_timer() {
  python3 - "$port" "$1" "$out/$1.yaml" "$out/$1.json" "$2" <<'EOF'
import http.client, json, os, re, statistics, sys, time
port, name, manifest, body_file, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
template = open(manifest).read()
body = open(body_file, "rb").read()
conn = http.client.HTTPConnection("127.0.0.1", int(port))
def call(method, path, data, ctype):
    conn.request(method, path, data,
                 {"Content-Type": ctype, "Authorization": "Bearer " + os.environ["SIE_TOKEN"]})
    r = conn.getresponse()
    return r.status, r.read()
totals, deploys, tries = [], [], []
for i in range(runs):
    version = str(2 + i)
    text, n = re.subn(r'version: "?1"?', f'version: "{version}"', template, count=1)
    assert n == 1, "no version: 1 in " + manifest
    t0 = time.perf_counter_ns()
    status, answer = call("POST", "/api/v1/functions", text, "application/yaml")
    t1 = time.perf_counter_ns()
    assert status in (200, 201), (status, answer)
    for attempt in range(1, 10001):
        status, answer = call("POST", f"/api/v1/functions/{name}/invoke?dryRun=true", body, "application/json")
        if status == 200 and json.loads(answer)["function"] == f"{name}@{version}":
            break
    else:
        sys.exit(f"{name}@{version} never answered")
    t2 = time.perf_counter_ns()
    totals.append((t2 - t0) / 1e6); deploys.append((t1 - t0) / 1e6); tries.append(attempt)
print(f"deploy->first-invoke-{name} runs={runs} median_ms={statistics.median(totals):.2f} "
      f"max_ms={max(totals):.2f} deploy_call_median_ms={statistics.median(deploys):.2f} "
      f"invokes_needed_max={max(tries)}")
EOF
}
deploy_builtin=$(deploy_timer "$builtin" "$DEPLOYS")
deploy_onnx=$(deploy_timer "$onnx" "$ONNX_DEPLOYS")

upload_times=()
for i in $(seq "$REPS"); do
  head -c "$((UPLOAD_MIB << 20))" /dev/urandom >"$tmp/upload.bin"
  t=$(curl -s -o "$tmp/upload.json" -w '%{http_code} %{time_total}' -T "$tmp/upload.bin" -H "$auth" \
    -H 'Content-Type: application/octet-stream' "$base/api/v1/artifacts/upload-$i.bin")
  [ "${t% *}" = 201 ] || { echo "run.sh: upload answered ${t% *}: $(cat "$tmp/upload.json")" >&2; exit 1; }
  upload_times+=("${t#* }")
done
rm -f "$tmp/upload.bin"
upload=$(printf '%s\n' "${upload_times[@]}" | python3 -c '
import statistics, sys
mib = int(sys.argv[1]); s = statistics.median(float(x) for x in sys.stdin)
print("artifact-upload-%dMiB median_s=%.2f MiB_per_s=%.0f" % (mib, s, mib / s))' "$UPLOAD_MIB")

echo "sie control API, $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), wrk ${DURATION}s x $REPS (medians)"
printf '%-34s %10s %10s %10s %8s %8s\n' point req/s p50_us p99_us non2xx sockerr
for row in "${rows[@]}"; do
  # shellcheck disable=SC2086
  printf '%-34s %10s %10s %10s %8s %8s\n' $row
done
echo "$deploy_builtin"
echo "$deploy_onnx"
echo "$upload"
if grep -q 'error\|warn' "$out/node.log"; then
  echo "node log warnings/errors:"
  grep 'error\|warn' "$out/node.log" | head -5
fi
