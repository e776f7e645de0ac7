#!/usr/bin/env bash
# bench/soak: builds gg_soak (-DGG_BENCH=ON, in build-bench/) and runs it
# against the gateway binary (default: the Release build from `make build`).
#   bench/soak/run.sh                                   # 10 min soak
#   bench/soak/run.sh --duration 3m --interval 15s
#   bench/soak/run.sh --mode faults --calls 100000      # the 100,000-call run
#   GATEWAY=/path/to/gitlab-gateway bench/soak/run.sh ...
# Loopback only; gg_soak stops its gateways and upstream itself, and the whole
# run is bounded by `timeout` (SOAK_TIMEOUT seconds, default 40 min).
set -euo pipefail
cd "$(dirname "$0")/../.."
GATEWAY="${GATEWAY:-${BUILD_DIR:-build}/service/gitlab-gateway}"
BENCH_BUILD_DIR="${BENCH_BUILD_DIR:-build-bench}"
JOBS="${JOBS:-$(nproc)}"

[ -x "$GATEWAY" ] || { echo "soak: no gateway binary at $GATEWAY (make build)" >&2; exit 2; }
cmake -S . -B "$BENCH_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGG_BENCH=ON \
  -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BENCH_BUILD_DIR" -j "$JOBS" --target gg_soak
exec timeout --kill-after=30 "${SOAK_TIMEOUT:-2400}" \
  "$BENCH_BUILD_DIR/bench/gg_soak" --gateway "$GATEWAY" "$@"
