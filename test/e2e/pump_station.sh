#!/usr/bin/env bash
# The MQTT + Modbus example site against a real mosquitto and the field simulator: readings
# arrive over both protocols, a vibration anomaly stops the pump with a verified Modbus write
# (audited), decisions go out over MQTT, and a Modbus device that dies is marked stale and
# polled again once it is back.
source "$(dirname "$0")/lib.sh"

FIELDSIM=${FIELDSIM:-$(dirname "$SIE")/sie-fieldsim}
chmod 755 "$WORK"  # mosquitto started as root drops to its own user
broker_port=$(free_port)
modbus_port=$(free_port)
http_port=$(free_port)
BROKER_PID=""
FIELD_PID=""
stop_all() {
  for pid in $FIELD_PID $BROKER_PID; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  cleanup
}
trap stop_all EXIT

printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$broker_port" >"$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$broker_port" || fail "mosquitto did not start"
start_field() {
  "$FIELDSIM" --modbus "127.0.0.1:$modbus_port" --mqtt-port "$broker_port" >>"$WORK/field.log" 2>&1 &
  FIELD_PID=$!
  wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$modbus_port" || fail "sie-fieldsim did not start"
}
start_field

example="$(dirname "$0")/../../examples/mqtt-modbus-site"
mkdir -p "$WORK/site"
cp -r "$example/functions" "$WORK/site/"
sed -e "s/port: 1883/port: $broker_port/; s/port: 1502/port: $modbus_port/" \
    -e "s/127.0.0.1:8080/127.0.0.1:$http_port/; s#./sie-data-pump-station#$WORK/data#" \
    -e "s/minInterval: 10s/minInterval: 1s/" \
    "$example/site.yaml" >"$WORK/site/site.yaml"
mosquitto_sub -p "$broker_port" -c -i e2e-decisions -q 1 -t 'sie/decisions/#' -E ||
  fail "cannot subscribe to decisions"

"$SIE" run --insecure-loopback-only --config "$WORK/site/site.yaml" --duration 120 -q >"$WORK/node.log" 2>&1 &
NODE_PID=$!
wait_for 20 curl -sf "http://127.0.0.1:$http_port/healthz" || fail "node did not become healthy"

db="$WORK/data/sie.db"
# count SENSOR [SQL condition]: readings of a sensor.
count() {
  sqlite3 "$db" "SELECT count(*) FROM readings r JOIN sensors s ON s.id = r.sensor_id WHERE s.name = '$1' ${2:-};" 2>/dev/null || echo 0
}
latest() {
  sqlite3 "$db" "SELECT r.value FROM readings r JOIN sensors s ON s.id = r.sensor_id WHERE s.name = '$1' ORDER BY r.ts_ns DESC LIMIT 1;" 2>/dev/null
}
at_least() { [ "$(count "$1" "${3:-}")" -ge "$2" ]; }   # SENSOR N [condition]
latest_is() { [ "$(latest "$1")" = "$2" ]; }
verified_write() { sqlite3 "$db" "SELECT body FROM audit WHERE kind = 'action'" | grep -q 'written and verified'; }

wait_for 20 at_least water/tank1/level 2 || fail "no tank level over Modbus"
wait_for 20 at_least rotating/pump1/vibration 5 || fail "no vibration over MQTT"
latest_is rotating/pump1/running 1.0 || fail "the pump should run at the start"

# A bearing defect: a strong 650 Hz tone in one vibration block (stamped ahead of the field
# simulator's blocks, so it is not refused as out of order).
python3 -c '
import json, math, time
print(json.dumps({"ts": time.time_ns() + 2_000_000_000, "period_ns": 500000, "seq": 1000000,
                  "values": [round(0.8 * math.sin(2 * math.pi * 650 * i / 2000), 4) for i in range(256)]}))' \
  >"$WORK/defect.json"
mosquitto_pub -p "$broker_port" -q 1 -t plant/rotating/pump1/vibration -f "$WORK/defect.json"
wait_for 20 verified_write || fail "no verified Modbus write in the audit chain"
wait_for 10 latest_is rotating/pump1/running 0.0 || fail "the pump did not stop"
decisions=$(mosquitto_sub -p "$broker_port" -c -i e2e-decisions -q 1 -t 'sie/decisions/#' -C 5 -W 10 |
  grep -c '"function"') || fail "no decisions published over MQTT"

# The device dies: its sensors are marked stale; it comes back: polling resumes.
kill "$FIELD_PID"
wait "$FIELD_PID" 2>/dev/null || true
FIELD_PID=""
wait_for 20 at_least water/tank1/level 1 "AND r.quality = 2" || fail "a dead device's sensors were not marked stale"
before=$(count water/tank1/level)
start_field
wait_for 40 at_least water/tank1/level $((before + 2)) || fail "polling did not resume after the device came back"

kill -TERM "$NODE_PID"
wait "$NODE_PID" || fail "node did not stop cleanly"
NODE_PID=""
"$SIE" audit verify --data-dir "$WORK/data" >/dev/null || fail "audit chain broken"
echo "pump station: ok ($decisions decisions out over MQTT, pump stopped by a verified write, stale marking and recovery)"
