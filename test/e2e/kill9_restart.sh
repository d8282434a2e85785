#!/usr/bin/env bash
# kill -9 in the middle of a run: the committed readings and the audit chain survive, and the
# node restarts on the same data dir and continues the chain.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
"$SIE" run --insecure-loopback-only --data-dir "$WORK/data" --http "127.0.0.1:$port" --duration 60 -q >"$WORK/node.log" 2>&1 &
NODE_PID=$!
wait_for 20 curl -sf "http://127.0.0.1:$port/healthz" || fail "node did not become healthy"
enough() {
  curl -sf "http://127.0.0.1:$port/api/v1/status" >"$WORK/status.json"
  [ "$(json_field "$WORK/status.json" 'd["events"] > 300')" = True ]
}
wait_for 30 enough || fail "too few events"
sleep 0.2  # let one more batch commit (batchInterval is 20 ms)
kill -9 "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
NODE_PID=""

accepted=$(json_field "$WORK/status.json" 'd["events"]')
stored=$(sqlite3 "$WORK/data/sie.db" "SELECT count(*) FROM readings;")
[ "$stored" -ge "$accepted" ] || fail "only $stored of $accepted readings accepted before the kill are stored"
"$SIE" audit verify --data-dir "$WORK/data" >"$WORK/verify.txt" || fail "chain broken after kill -9: $(cat "$WORK/verify.txt")"
records_before=$(sqlite3 "$WORK/data/sie.db" "SELECT count(*) FROM audit;")

"$SIE" run --insecure-loopback-only --data-dir "$WORK/data" --http "127.0.0.1:$port" --duration 2 -q >"$WORK/node2.log" 2>&1 ||
  fail "restart failed: $(cat "$WORK/node2.log")"
"$SIE" audit verify --data-dir "$WORK/data" >"$WORK/verify.txt" || fail "chain broken after restart"
records_after=$(sqlite3 "$WORK/data/sie.db" "SELECT count(*) FROM audit;")
[ "$records_after" -gt "$records_before" ] || fail "restart did not continue the audit chain"
echo "kill -9 and restart: ok ($stored readings kept, audit $records_before -> $records_after)"
