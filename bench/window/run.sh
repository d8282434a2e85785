#!/usr/bin/env bash
# A windowed function per reading, MQTT in -> z-score over the sensor's previous 64 readings ->
# MQTT out, against a local mosquitto: sie (builtin zscore) side by side with
# bench/window/window_baseline, a minimal libmosquitto C program doing the same work, in one run.
# For QoS 0 and 1: fixed rates (1,000 and 10,000 readings/s), then the highest sustained rate
# (loss < 0.1 %, p99 < 50 ms, the generator keeping the pace). Every decision is checked against
# the generator's own reference (a wrong window fails the run). Each line gives latency, the CPU
# time the system under test spent per reading and its peak resident memory; the summary gives
# sie's figures as ratios to the baseline's.
#   bench/window/run.sh [BUILD_DIR] [SECONDS] [SENSORS]
# A/B mode, for a change's cost: AB_OLD=/path/to/another/sie bench/window/run.sh [BUILD_DIR] ...
# alternates that binary ("old") and BUILD_DIR's ("sie") at AB_RATES readings/s (default "1000
# 10000"), QoS AB_QOS (default 0), AB_ROUNDS times (default 5), one line per measurement; compare
# the rounds' pairs. SESSION=persistent gives sie's source a persistent session (cleanSession:
# false, a fixed client id), as a node that must lose nothing across restarts runs it.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
seconds=${2:-5}
sensors=${3:-100}
work=$(mktemp -d)
chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# TCP_NODELAY on the broker too, or its small deliveries wait on Nagle and delayed ACKs.
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\nset_tcp_nodelay true\n' \
  "$port" >"$work/mosquitto.conf"

session=""
[ "${SESSION:-}" = persistent ] && session=", cleanSession: false, clientId: window-bench-in"
site() {  # qos
  mkdir -p "$work/site/functions"
  cat >"$work/site/site.yaml" <<YAML
apiVersion: sie/v1
kind: Site
metadata: {name: window-bench}
spec:
  dataDir: $work/data
  http: ""
  summaryInterval: 0
  log: {level: warn}
  sources:
    - {name: in, type: mqtt, port: $port, qos: $1, maxInflight: 1000, topics: ["bench/in/{sensor}"], sensor: "bench/{sensor}", carry: [t0]$session}
  sinks:
    - {name: out, type: mqtt, port: $port, qos: $1, maxInflight: 1000, maxQueued: 1000000, topic: "bench/out/{sensor}"}
  dispatcher: {queueCapacity: 100000}
YAML
  cat >"$work/site/functions/zscore.yaml" <<'YAML'
apiVersion: sie/v1
kind: Function
metadata: {name: zscore, version: "1"}
spec:
  runtime: builtin
  handler: zscore
  triggers: ["bench/+"]
  inputs:
    - {name: history, kind: window, last: 64}
  params: {threshold: 3, min_samples: 10}
YAML
}

# A fresh broker and system for every measurement: an overloaded run leaves a backlog behind,
# and peak memory is the measurement's own.
start() {  # system qos
  rm -rf "$work/data"
  mosquitto -c "$work/mosquitto.conf" >"$work/broker.log" 2>&1 &
  BROKER_PID=$!
  sleep 0.3
  if [ "$1" = sie ] || [ "$1" = old ]; then
    site "$2"
    local bin="$build/sie"
    [ "$1" = old ] && bin=$AB_OLD
    "$bin" run --config "$work/site/site.yaml" -q >"$work/sie.log" 2>&1 &
  else
    "$build/bench/window/window_baseline" "$port" "$2" 64 >"$work/baseline.log" 2>&1 &
  fi
  SYSTEM_PID=$!
  sleep 1
}
stop() {
  kill "$SYSTEM_PID" "$BROKER_PID"
  wait "$SYSTEM_PID" "$BROKER_PID" 2>/dev/null || true
}

measure() {  # system qos rate
  start "$1" "$2"
  local line status=0
  line=$("$build/bench/window/window_loadgen" "$port" "$2" "$3" "$seconds" "$SYSTEM_PID" "$sensors" 64 \
    2>"$work/loadgen.err") || status=$?
  stop
  printf '%-8s %s\n' "$1" "$line"
  if [ "$status" -ne 0 ]; then
    cat "$work/loadgen.err" >&2
    echo "$1 answered with wrong windows (see above)" >&2
    exit 1
  fi
}

field() {  # line name: the number after "name "
  sed -E "s/.* $2 ([0-9.]+).*/\1/" <<<"$1"
}

sustained() {  # line rate: under 0.1 % lost, p99 under 50 ms, and the generator kept the pace
  awk "BEGIN {exit !($(field "$1" loss) < 0.1 && $(field "$1" p99) < 50000 &&
                      $(field "$1" offered) >= 0.95 * $2)}"
}

if [ -n "${AB_OLD:-}" ]; then
  for round in $(seq "${AB_ROUNDS:-5}"); do
    for rate in ${AB_RATES:-1000 10000}; do
      for system in old sie; do echo "round $round $(measure $system "${AB_QOS:-0}" $rate)"; done
    done
  done
  exit 0
fi

declare -A result
for qos in 0 1; do
  for rate in 1000 10000; do
    for system in baseline sie; do
      result[$system,$qos,$rate]=$(measure $system $qos $rate)
      echo "${result[$system,$qos,$rate]}"
    done
  done
  for system in baseline sie; do
    best=0
    for rate in 1000 10000; do
      if sustained "${result[$system,$qos,$rate]}" $rate; then best=$rate; fi
    done
    [ $qos = 0 ] && rates="12000 15000 18000 21000 24000 27000 30000 35000 40000" ||
      rates="4000 6000 8000 10000 12000 15000 18000 21000 24000"
    for rate in $rates; do
      line=$(measure $system $qos $rate)
      echo "$line"
      if sustained "$line" $rate; then best=$rate; else break; fi
    done
    result[$system,$qos,max]=$best
    echo "MAX $system qos $qos: $best readings/s (loss < 0.1 %, p99 < 50 ms)"
  done
done

echo
echo "sie ÷ baseline, same run:"
for qos in 0 1; do
  for rate in 1000 10000; do
    b=${result[baseline,$qos,$rate]}
    s=${result[sie,$qos,$rate]}
    awk -v q="$qos" -v r="$rate" -v bp="$(field "$b" p99)" -v sp="$(field "$s" p99)" \
      -v bc="$(field "$b" cpu)" -v sc="$(field "$s" cpu)" -v br="$(field "$b" rss)" \
      -v sr="$(field "$s" rss)" -v ba="$(field "$b" anon)" -v sa="$(field "$s" anon)" 'BEGIN {
        printf "  qos %s %6s/s: p99 %.2fx (%.0f vs %.0f us), CPU %.2fx (%.1f vs %.1f us/reading), peak RSS %.1f vs %.1f MB (anonymous %.1f vs %.1f MB)\n",
               q, r, sp / bp, sp, bp, sc / bc, sc, bc, sr, br, sa, ba }'
  done
  awk -v q="$qos" -v b="${result[baseline,$qos,max]}" -v s="${result[sie,$qos,max]}" 'BEGIN {
    printf "  qos %s highest sustained rate: %.0f %% (%d vs %d readings/s)\n", q, (b > 0 ? 100 * s / b : 0), s, b }'
done
