#!/usr/bin/env bash
# kill -9 the node while a real mosquitto broker streams QoS 1 readings to it: after a restart on
# the same data dir and MQTT session, every reading is stored exactly once. Two streams run at
# once: p1's readings carry a timestamp, p2's do not (stamped on arrival, so a redelivered one can
# only be told by the message itself). BACKEND=redis runs it on the Redis state backend (a
# redis-server the script starts, appendfsync always), embedded (SQLite) otherwise.
source "$(dirname "$0")/lib.sh"

total=3000
chmod 755 "$WORK"  # mosquitto started as root drops to its own user
broker_port=$(free_port)
http_port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages %s\n' "$broker_port" $((2 * total)) \
  >"$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!
REDIS_PID=""
trap 'kill $BROKER_PID $REDIS_PID 2>/dev/null; wait $BROKER_PID $REDIS_PID 2>/dev/null; cleanup' EXIT
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$broker_port" || fail "mosquitto did not start"
state=""
if [ "${BACKEND:-embedded}" = redis ]; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes \
    --appendfsync always --dir "$WORK" >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  wait_for 10 redis-cli -p "$redis_port" ping || fail "redis-server did not start"
  state="  state: {backend: redis, redis: {port: $redis_port, prefix: k9}}"
fi

mkdir -p "$WORK/site/functions"
cat >"$WORK/site/site.yaml" <<YAML
apiVersion: sie/v1
kind: Site
metadata: {name: mqtt-kill9}
spec:
  dataDir: $WORK/data
  http: 127.0.0.1:$http_port
  summaryInterval: 0
$state
  sources:
    - name: field
      type: mqtt
      port: $broker_port
      clientId: sie-e2e-kill9
      cleanSession: false
      topics: ["plant/{asset}/{signal}"]
      reconnectMax: 500ms
YAML
cat >"$WORK/site/functions/hot.yaml" <<'YAML'
apiVersion: sie/v1
kind: Function
metadata: {name: hot, version: "1"}
spec: {runtime: builtin, handler: threshold, triggers: ["plant/+/temp"], params: {max: 100000}}
YAML

start_node() {
  "$SIE" run --insecure-loopback-only --config "$WORK/site/site.yaml" --duration 120 -q >>"$WORK/node.log" 2>&1 &
  NODE_PID=$!
  wait_for 20 curl -sf "http://127.0.0.1:$http_port/healthz" || fail "node did not become healthy"
  wait_for 20 bash -c "curl -sf http://127.0.0.1:$http_port/metrics | grep -q 'sie_mqtt_connected{client=\"field\"} 1'" ||
    fail "node did not connect to the broker"
}
# stored SENSOR: readings and distinct values (each message's value is unique) of one sensor.
stored() {
  if [ -n "$REDIS_PID" ]; then
    redis-cli -p "$redis_port" --raw XRANGE "k9:ts:plant/$1/temp" - + |
      awk 'prev == "v" {n++; seen[$0] = 1} {prev = $0} END {printf "%d %d\n", n, length(seen)}'
  else
    sqlite3 "$WORK/data/sie.db" "SELECT count(*) || ' ' || count(DISTINCT value) FROM readings
      JOIN sensors ON sensors.id = sensor_id WHERE name = 'plant/$1/temp';" 2>/dev/null || echo "0 0"
  fi
}
all_stored() {
  local p1 p2
  p1=$(stored p1 | cut -d' ' -f1)
  p2=$(stored p2 | cut -d' ' -f1)
  echo $((${p1:-0} + ${p2:-0}))
}
more_than() { [ "$(all_stored)" -gt "$1" ]; }

start_node
seq 1 $total | awk '{printf "{\"value\": %d, \"ts_ms\": %.0f}\n", $1, 1700000000000 + $1}' |
  mosquitto_pub -p "$broker_port" -q 1 -l -t plant/p1/temp &
PUB1_PID=$!
seq 1 $total | awk '{printf "{\"value\": %d}\n", $1}' |
  mosquitto_pub -p "$broker_port" -q 1 -l -t plant/p2/temp &
PUB2_PID=$!
wait_for 30 more_than 600 || fail "too few readings before the kill"
kill -9 "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
NODE_PID=""
before="p1 $(stored p1), p2 $(stored p2)"
wait "$PUB1_PID" || fail "mosquitto_pub failed"
wait "$PUB2_PID" || fail "mosquitto_pub failed"

start_node
wait_for 60 more_than $((2 * total - 1)) ||
  fail "after the restart $(all_stored) readings of $((2 * total)) are stored (p1 $(stored p1), p2 $(stored p2))"
sleep 1  # anything redelivered twice would show up now
[ "$(stored p1)" = "$total $total" ] || fail "p1 readings stored twice: $(stored p1) (count, distinct)"
[ "$(stored p2)" = "$total $total" ] || fail "p2 readings stored twice: $(stored p2) (count, distinct)"
recognized=$(curl -sf "http://127.0.0.1:$http_port/metrics" |
  awk '/^sie_mqtt_redeliveries_recognized_total/ {print $2}')
kill -TERM "$NODE_PID"
wait "$NODE_PID" || fail "node did not stop cleanly"
NODE_PID=""
echo "mqtt kill -9 (${BACKEND:-embedded} state): ok (at the kill: $before stored (count, distinct); after the restart" \
  "$total of $total each, none twice; ${recognized:-0} redeliveries recognised)"
