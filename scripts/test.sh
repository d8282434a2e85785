#!/usr/bin/env bash
# Installs what is needed, builds sie and runs the whole test suite:
#   1. ASan+UBSan build with clang (about twice as fast to compile as gcc here), every test; the
#      libFuzzer targets are built in this tree too, so every library under them is sanitized;
#   2. the fuzz targets (decoders, manifests, models, signatures, worker frames and results, site
#      files, topic templates, the node's whole HTTP surface), each run for a bounded count;
#   3. TSan build, the tests labelled "concurrency" or "integration" (threads against real servers);
#   4. the regular build (build/sie), every test except benchmarks — its summary ends the output.
# Before the last stage's tests it prints how long each stage took (ctest times the last itself).
# A sanitizer tree is removed once its stages pass (each test binary links the whole node
# statically, so the ASan tree alone takes about 7 GB); SIE_KEEP_TREES=1 keeps them for
# incremental rebuilds. SIE_QUICK=1 skips the sanitizer builds (for a fast local loop).
set -euo pipefail
cd "$(dirname "$0")/.."

stage_times=()
stage_start=$SECONDS
stage_done() {  # name: records the time since the previous stage ended
  stage_times+=("$1 $((SECONDS - stage_start))s")
  stage_start=$SECONDS
}

scripts/install-deps.sh
jobs=$(nproc)

# The Node.js Lambda example runs AWS's runtime interface client (its install compiles ~2 min).
ric=examples/functions/pump-rule-node
[ -e "$ric/node_modules/aws-lambda-ric/index.mjs" ] || npm ci --prefix "$ric" --no-audit --no-fund
# Third-party peers the integration tests drive the node with: a Modbus TCP device
# (modbus-serial) and a Sparkplug B edge node (Eclipse Tahu's sparkplug-client).
peers=test/thirdparty
[ -e "$peers/node_modules/modbus-serial/package.json" ] &&
  [ -e "$peers/node_modules/sparkplug-client/package.json" ] ||
  npm ci --prefix "$peers" --no-audit --no-fund
stage_done "dependencies"

configure_and_build() {  # dir, cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

drop_tree() {  # dir: frees the disk a finished sanitizer tree holds
  [ "${SIE_KEEP_TREES:-0}" = 1 ] || rm -rf "$1"
}

if [ "${SIE_QUICK:-0}" != 1 ]; then
  echo "== ASan+UBSan build (clang, with the fuzz targets) and tests"
  configure_and_build build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug -DSIE_SANITIZE=ON -DSIE_BUILD_FUZZ=ON -DSIE_BUILD_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE 'bench|fuzz'
  stage_done "asan+ubsan"

  echo "== Fuzz targets (libFuzzer, built in the ASan+UBSan tree), bounded runs"
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L fuzz
  stage_done "fuzz"
  drop_tree build-asan

  echo "== TSan build, concurrency and integration tests"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIE_TSAN=ON \
    -DSIE_BUILD_BENCH=OFF >/dev/null
  cmake --build build-tsan -j "$jobs" --target thread_tests
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L 'concurrency|integration'
  stage_done "tsan"
  drop_tree build-tsan
fi

echo "== Release build (build/sie) and the full suite"
configure_and_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
stage_done "release build"
echo "== Stage times: ${stage_times[*]/%/,} release tests: see ctest's total below"
ctest --test-dir build --output-on-failure -j "$jobs" -LE 'bench|fuzz'
