# Helpers for the end-to-end scripts: run build/sie like a user would.
set -euo pipefail

SIE=${SIE:?path to the sie binary}
WORK=$(mktemp -d)
NODE_PID=""
cleanup() {
  if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then kill -9 "$NODE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$WORK/node.log" ] && tail -n 30 "$WORK/node.log" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for DEADLINE_S CMD...: retries CMD until it succeeds or the deadline passes.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# json_field FILE EXPR: evaluates a Python expression over the parsed JSON document `d`.
json_field() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }
