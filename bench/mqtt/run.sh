#!/usr/bin/env bash
# MQTT in -> builtin function -> MQTT out against a local mosquitto, sie side by side with the
# minimal libmosquitto baseline, in one run: latency at 1,000 and 10,000 msgs/s and the highest
# rate with < 0.1 % loss, for QoS 0 and 1.
#   bench/mqtt/run.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
seconds=${2:-5}
work=$(mktemp -d)
chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# TCP_NODELAY on the broker too, or its small deliveries wait on Nagle and delayed ACKs.
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\nset_tcp_nodelay true\n' \
  "$port" >"$work/mosquitto.conf"

site() {  # qos
  mkdir -p "$work/site/functions"
  cat >"$work/site/site.yaml" <<YAML
apiVersion: sie/v1
kind: Site
metadata: {name: mqtt-bench}
spec:
  dataDir: $work/data
  http: ""
  summaryInterval: 0
  log: {level: warn}
  sources:
    - {name: in, type: mqtt, port: $port, qos: $1, maxInflight: 1000, topics: ["bench/in/{sensor}"], sensor: "bench/{sensor}", carry: [t0]}
  sinks:
    - {name: out, type: mqtt, port: $port, qos: $1, maxInflight: 1000, maxQueued: 1000000, topic: "bench/out/{sensor}"}
  dispatcher: {queueCapacity: 100000}
YAML
  cat >"$work/site/functions/limit.yaml" <<'YAML'
apiVersion: sie/v1
kind: Function
metadata: {name: limit, version: "1"}
spec: {runtime: builtin, handler: threshold, triggers: ["bench/+"], params: {max: 80}}
YAML
}

# A fresh broker for every measurement: an overloaded run leaves a backlog behind.
start() {  # system qos
  rm -rf "$work/data"
  mosquitto -c "$work/mosquitto.conf" >"$work/broker.log" 2>&1 &
  BROKER_PID=$!
  sleep 0.3
  if [ "$1" = sie ]; then
    site "$2"
    "$build/sie" run --config "$work/site/site.yaml" -q >"$work/sie.log" 2>&1 &
  else
    "$build/bench/mqtt/mqtt_baseline" "$port" "$2" >"$work/baseline.log" 2>&1 &
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
  printf '%-8s ' "$1"
  "$build/bench/mqtt/mqtt_loadgen" "$port" "$2" "$3" "$seconds"
  stop
}

for qos in 0 1; do
  for rate in 1000 10000; do
    for system in baseline sie; do measure $system $qos $rate; done
  done
  for system in baseline sie; do
    best=0
    [ $qos = 0 ] && rates="15000 20000 25000 30000 40000 50000 60000" || rates="2000 3000 4000 5000 6000 8000 10000"
    for rate in $rates; do
      line=$(measure $system $qos $rate)
      echo "$line"
      loss=$(sed -E 's/.*loss ([0-9.]+)%.*/\1/' <<<"$line")
      offered=$(sed -E 's/.*offered ([0-9]+)\/s.*/\1/' <<<"$line")
      # Sustained: under 0.1 % lost and the generator kept the pace.
      if awk "BEGIN {exit !($loss < 0.1 && $offered >= 0.95 * $rate)}"; then best=$rate; else break; fi
    done
    echo "MAX $system qos $qos: $best msgs/s with < 0.1 % loss"
  done
done
