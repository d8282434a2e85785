#!/usr/bin/env bash
# Installs what is needed, builds sie and runs the node on the built-in demo site
# (simulated plant, one function per domain, local state in ./sie-data, HTTP on 127.0.0.1:8080).
# The demo opts out of authentication (--insecure-loopback-only: loopback callers only); a real
# node drops the flag and gives its callers tokens (docs/SECURITY.md).
# Extra arguments go to `sie run`, e.g. scripts/demo.sh --duration 30
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target sie
exec build/sie run --insecure-loopback-only "$@"
