#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing sie needs.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git lld
  clang libclang-rt-14-dev clang-format clang-tidy
  libboost-dev libssl-dev libsqlite3-dev sqlite3
  libsimdjson-dev nlohmann-json3-dev libcbor-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev libexpected-dev
  libfftw3-dev
  libseccomp-dev
  libmosquitto-dev mosquitto mosquitto-clients openssl
  libmodbus-dev protobuf-compiler libprotobuf-dev librdkafka-dev
  libhiredis-dev redis-server
  libopencv-dnn-dev libonnx-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl procps python3
  nodejs autoconf automake libtool  # npm aws-lambda-ric builds curl and aws-lambda-cpp
  wrk    # bench/control only
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with NodeSource's nodejs, as its own package with Debian's.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
