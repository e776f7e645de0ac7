#!/usr/bin/env bash
# `make bench`: installs the benchmark packages, builds the load tools with
# -DGG_BENCH=ON in their own build dir, then runs bench/run.py against the
# gateway binary (default: the Release build from `make build`).
#   bench/run.sh [run.py flags...]
#   GATEWAY=/path/to/gitlab-gateway BENCH_BUILD_DIR=build-bench bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GATEWAY="${GATEWAY:-${BUILD_DIR:-build}/service/gitlab-gateway}"
BENCH_BUILD_DIR="${BENCH_BUILD_DIR:-build-bench}"
JOBS="${JOBS:-$(nproc)}"

bash scripts/install-deps.sh bench
[ -x "$GATEWAY" ] || { echo "bench: no gateway binary at $GATEWAY (make build)" >&2; exit 2; }
cmake -S . -B "$BENCH_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGG_BENCH=ON \
  -DBUILD_TESTING=OFF >/dev/null
# Only the tools: they need the generated API, not the service.
cmake --build "$BENCH_BUILD_DIR" -j "$JOBS" --target gg_loadgen gg_curl_direct gg_delay_server gg_bare_server
GG_BENCH_COMMAND="${GG_BENCH_COMMAND:-make bench}" exec timeout --kill-after=30 900 \
  /usr/bin/python3 bench/run.py --gateway "$GATEWAY" --tools "$BENCH_BUILD_DIR/bench" "$@"
