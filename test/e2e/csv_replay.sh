#!/usr/bin/env bash
# Recorded data end to end: score a function on labelled CSV files with `sie eval --csv` (exact
# counts), then replay one file into a running node with a csv source.
source "$(dirname "$0")/lib.sh"

# Two recordings: a signal near 5, a labelled excursion to 20 (rows 200-219), and labelled rows
# the signal does not show (250-254), which a threshold must miss.
mkdir -p "$WORK/rec" "$WORK/site/functions"
python3 - "$WORK/rec" <<'PY'
import sys
for f in ("a", "b"):
    with open(f"{sys.argv[1]}/{f}.csv", "w") as out:
        out.write("datetime;Value;Other Signal;anomaly;changepoint\n")
        for r in range(300):
            value = 20.0 if 200 <= r < 220 else 5.0 + 0.01 * (r % 7)
            label = 1 if 200 <= r < 220 or 250 <= r < 255 else 0
            out.write(f"2020-03-09 10:{r // 60:02d}:{r % 60:02d};{value};{r * 0.5};{label};0\n")
PY
cat >"$WORK/site/site.yaml" <<'YAML'
apiVersion: sie/v1
kind: Site
metadata: {name: recorded}
spec:
  functions: functions
  summaryInterval: 0
  sources:
    - name: rec
      type: csv
      path: REC
      speed: 0
      skip: [anomaly, changepoint]
YAML
sed -i "s|REC|$WORK/rec/a.csv|" "$WORK/site/site.yaml"
cat >"$WORK/site/functions/spike.yaml" <<'YAML'
apiVersion: sie/v1
kind: Function
metadata: {name: spike}
spec:
  runtime: builtin
  handler: threshold
  triggers: ["csv/+/value"]
  params: {max: 10}
YAML

"$SIE" eval --site "$WORK/site" --csv "$WORK/rec" --label anomaly --fit-rows 100 --function spike \
  --json >"$WORK/eval.json" || fail "sie eval --csv failed"
check() { [ "$(json_field "$WORK/eval.json" "$1")" = "$2" ] || fail "$1 is $(json_field "$WORK/eval.json" "$1"), want $2"; }
check 'd["files"]' 2
check 'd["total"]["rows"]' 400          # 2 files x (300 - 100 fit rows)
check 'd["total"]["tp"]' 40
check 'd["total"]["fn"]' 10
check 'd["total"]["fp"]' 0
check 'round(d["total"]["mar"], 3)' 0.2
check 'd["perFile"][1]["file"].endswith("b.csv")' True
# Bad input: a missing label column is named.
set +e
"$SIE" eval --site "$WORK/site" --csv "$WORK/rec" --label nope --function spike >"$WORK/out.txt" 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "missing label column exited $code"
grep -q "no label column 'nope'" "$WORK/out.txt" || fail "label error: $(cat "$WORK/out.txt")"

# Replay a.csv into a node as fast as it takes it: every value arrives and the excursion is seen.
port=$(free_port)
"$SIE" run --insecure-loopback-only --config "$WORK/site/site.yaml" --data-dir "$WORK/data" --http "127.0.0.1:$port" \
  --duration 60 >"$WORK/node.log" 2>&1 &
NODE_PID=$!
replayed() {
  curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/metrics.txt"
  grep -qE '^sie_source_readings_total\{source="rec"\} 600$' "$WORK/metrics.txt" &&
    grep -qE '^sie_decisions_total\{function="spike@1",outcome="anomaly"\} 20$' "$WORK/metrics.txt"
}
wait_for 30 replayed || fail "replay: $(grep -E 'source_readings|decisions_total' "$WORK/metrics.txt")"
kill -TERM "$NODE_PID"
wait "$NODE_PID" || fail "node exited non-zero after SIGTERM"
NODE_PID=""
echo "csv end-to-end: ok"
