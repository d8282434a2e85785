#!/usr/bin/env bash
# The command line answers misuse with a clear message and a non-zero exit, never a crash.
source "$(dirname "$0")/lib.sh"

"$SIE" --version | grep -Eq '^sie [0-9]+\.[0-9]+\.[0-9]+' || fail "--version"
"$SIE" --help | grep -q "run" || fail "--help lists run"
for cmd in run sim audit; do
  "$SIE" $cmd --help >"$WORK/help.txt" || fail "$cmd --help"
  [ -s "$WORK/help.txt" ] || fail "$cmd --help is empty"
done

expect_error() {  # expected-text, args...
  local want=$1
  shift
  if "$SIE" "$@" >"$WORK/out.txt" 2>&1; then fail "sie $* succeeded"; fi
  grep -q -- "$want" "$WORK/out.txt" || fail "sie $*: expected '$want', got: $(cat "$WORK/out.txt")"
}

expect_error "does not exist" run --config /nonexistent/site.yaml
expect_error "duration" run --duration -5

mkdir -p "$WORK/site/functions"
cat >"$WORK/site/site.yaml" <<'YAML'
apiVersion: sie/v1
kind: Site
metadata: {name: broken}
spec:
  http: ""
  sources:
    - {name: plant, type: sim}
YAML
cat >"$WORK/site/functions/bad.yaml" <<'YAML'
apiVersion: sie/v1
kind: Function
metadata: {name: bad}
spec:
  runtime: builtin
  handler: zscore
  triggers: ["grid/#"]
  scaling: {min: 3, max: 1}
YAML
expect_error "bad.yaml:8: spec.scaling.max must be at least min" run --config "$WORK/site/site.yaml" --data-dir "$WORK/d1"

printf 'apiVersion: sie/v1\nkind: Function\nmetadata: {name: [broken\n' >"$WORK/site/functions/bad.yaml"
expect_error "bad.yaml:4: invalid YAML" run --config "$WORK/site/site.yaml" --data-dir "$WORK/d2"

cat >"$WORK/site/functions/bad.yaml" <<'YAML'
apiVersion: sie/v1
kind: Function
metadata: {name: bad}
spec:
  runtime: wasm
  handler: x
  triggers: ["grid/#"]
YAML
expect_error "unknown runtime 'wasm'" run --config "$WORK/site/site.yaml" --data-dir "$WORK/d3"

expect_error "data-dir" audit verify
mkdir -p "$WORK/empty"
if "$SIE" audit verify --data-dir "$WORK/empty" >"$WORK/out.txt" 2>&1; then fail "verify of an empty dir succeeded"; fi
echo "cli errors: ok"
