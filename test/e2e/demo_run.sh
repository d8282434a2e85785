#!/usr/bin/env bash
# The demo site end to end: run it, read health, metrics, status and decisions over HTTP, stop it
# with SIGTERM, then prove the audit chain intact and signed — and broken once a record is altered.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
"$SIE" run --data-dir "$WORK/data" --http "127.0.0.1:$port" --duration 60 >"$WORK/node.log" 2>&1 &
NODE_PID=$!
wait_for 20 curl -sf "http://127.0.0.1:$port/healthz" || fail "node did not become healthy"
curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"ok"' || fail "healthz body"

# The first start wrote an admin token only this user can read; without it the API answers 401.
token_file="$WORK/data/security/admin.token"
[ "$(stat -c %a "$token_file")" = 600 ] || fail "admin token file mode $(stat -c %a "$token_file")"
auth=(-H "Authorization: Bearer $(head -n 1 "$token_file")")
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/status")
[ "$code" = 401 ] || fail "status without a token answered $code"

# Let readings flow until every function has decided something.
decided() {
  curl -sf "${auth[@]}" "http://127.0.0.1:$port/api/v1/status" >"$WORK/status.json"
  [ "$(json_field "$WORK/status.json" 'd["decisions"] > 0 and d["events"] > 100')" = True ]
}
wait_for 30 decided || fail "no decisions: $(cat "$WORK/status.json")"

curl -sf "${auth[@]}" "http://127.0.0.1:$port/metrics" >"$WORK/metrics.txt" || fail "metrics"
for family in sie_gateway_received_total sie_decisions_total sie_event_to_action_seconds_bucket \
              sie_queue_depth sie_function_duration_seconds_count sie_state_commit_seconds_count; do
  grep -q "^$family" "$WORK/metrics.txt" || fail "metric $family missing"
done
curl -sf "${auth[@]}" "http://127.0.0.1:$port/api/v1/decisions?limit=5" >"$WORK/decisions.json"
[ "$(json_field "$WORK/decisions.json" 'len(d)')" -ge 1 ] || fail "no recent decisions"
[ "$(json_field "$WORK/status.json" 'len(d["functions"])')" -ge 5 ] || fail "fewer than 5 functions"
code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "http://127.0.0.1:$port/nope")
[ "$code" = 404 ] || fail "unknown path answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "http://127.0.0.1:$port/metrics")
[ "$code" = 405 ] || fail "POST /metrics answered $code"

# The live summary (spec.summaryInterval, 5 s in the demo site) reports the rate of events.
summary() { grep -Eq 'events +[1-9][0-9]*/s' "$WORK/node.log"; }
wait_for 20 summary || fail "no live summary with an event rate in the node log"

kill -TERM "$NODE_PID"
wait "$NODE_PID" || fail "node exited non-zero after SIGTERM"
NODE_PID=""
grep -q "stopped after" "$WORK/node.log" || fail "no final summary"

"$SIE" audit verify --data-dir "$WORK/data" >"$WORK/verify.txt" || fail "audit verify failed on an intact chain"
grep -q "intact" "$WORK/verify.txt" || fail "verify output: $(cat "$WORK/verify.txt")"

# The node created its audit key (0600) and sealed the chain when it stopped.
[ "$(stat -c %a "$WORK/data/audit.key")" = 600 ] || fail "audit key mode $(stat -c %a "$WORK/data/audit.key")"
"$SIE" audit key --data-dir "$WORK/data" >"$WORK/node-audit.pub" 2>/dev/null || fail "audit key"
"$SIE" audit verify --data-dir "$WORK/data" --trust "$WORK/node-audit.pub" >"$WORK/verify.txt" ||
  fail "trusted verify failed: $(cat "$WORK/verify.txt")"
grep -q "signed by a trusted key" "$WORK/verify.txt" || fail "verify output: $(cat "$WORK/verify.txt")"

# Alter one record: verify must fail and name it.
sqlite3 "$WORK/data/sie.db" "UPDATE audit SET body = '{\"tampered\":true}' WHERE seq = 1;" ||
  fail "could not alter the audit table"
if "$SIE" audit verify --data-dir "$WORK/data" >"$WORK/verify.txt" 2>&1; then
  fail "audit verify passed on an altered chain"
fi
grep -q "record 1" "$WORK/verify.txt" || fail "verify did not name record 1: $(cat "$WORK/verify.txt")"
echo "demo end-to-end: ok"
