#!/usr/bin/env bash
# Measures gitlab-gateway's memory and CPU, idle and under load, on loopback:
# the numbers behind the resources in k8s/base/deployment.yaml (k8s/README.md
# records a run). Not part of `make test`: it takes about two minutes.
#
#   tests/deploy/measure-rss.sh [path/to/gitlab-gateway]   # default build/service/gitlab-gateway
#
# Starts tests/deploy/fake_gitlab.py and the gateway on 127.0.0.1 (ports
# chosen by the kernel), drives Execute calls from Debian's python3-grpcio
# (tests/deploy/gateway_call.py), samples /proc/<pid>/status VmRSS every
# 200 ms and reports the peak per phase, VmHWM, and CPU use from
# /proc/<pid>/stat. Everything stops by itself within a bounded time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
gateway=${1:-$root/build/service/gitlab-gateway}
PY=/usr/bin/python3   # Debian's python3-grpcio is visible only to this one
SECONDS_PER_PHASE=${SECONDS_PER_PHASE:-20}
[ -x "$gateway" ] || { echo "measure-rss: no $gateway (make build first)" >&2; exit 2; }
$PY -c 'import grpc' 2>/dev/null || { echo "measure-rss: needs Debian's python3-grpcio (apt-get install python3-grpcio)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() {  # wait_for FILE REGEX -> first capture of REGEX in FILE
  local i
  for i in $(seq 100); do
    if grep -qE "$2" "$1" 2>/dev/null; then
      sed -nE "s/.*$2.*/\1/p" "$1" | head -n1
      return 0
    fi
    sleep 0.1
  done
  echo "measure-rss: timed out waiting for '$2' in $1" >&2
  cat "$1" >&2
  return 1
}

$PY "$here/fake_gitlab.py" --max-seconds 900 >"$work/fake.out" 2>&1 &
pids+=($!)
fake_port=$(wait_for "$work/fake.out" 'listening on ([0-9]+)')

# The per-credential limiter (2000/min by default, GitLab.com's quota) would
# cap the load at ~33 calls/s; turn it off to load the gateway itself.
GITLAB_GATEWAY_RATE_LIMIT_PER_MINUTE=0 \
"$gateway" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
  --gitlab_url="http://127.0.0.1:$fake_port" >"$work/gw.out" 2>&1 &
gw=$!
pids+=($gw)
grpc_port=$(wait_for "$work/gw.out" 'gRPC on port ([0-9]+)')
metrics_port=$(wait_for "$work/gw.out" 'metrics on port ([0-9]+)')
target=127.0.0.1:$grpc_port
$PY "$here/gateway_call.py" health --target "$target" --wait 10 >/dev/null

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$gw/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$gw/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$gw/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$gw/stat"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
hz=$(getconf CLK_TCK)

# phase NAME PATH CONCURRENCY: load for SECONDS_PER_PHASE, report peak RSS
# and the gateway's CPU use (cores) over the phase.
phase() {
  local name=$1 path=$2 conc=$3 peak=0 r t0 t1 start end n=0 q qmax=0 fmax=0 f
  t0=$(cpu_ticks)
  start=$(date +%s.%N)
  $PY "$here/gateway_call.py" load --target "$target" --path "$path" \
    --concurrency "$conc" --seconds "$SECONDS_PER_PHASE" --timeout 60 \
    >"$work/load.out" 2>&1 &
  local load=$!
  while kill -0 "$load" 2>/dev/null; do
    r=$(rss_kb)
    [ "$r" -gt "$peak" ] && peak=$r
    if [ $((n++ % 5)) -eq 0 ]; then # once a second: the engine's gauges
      curl -fsS --max-time 2 "http://127.0.0.1:$metrics_port/metrics" >"$work/m.txt" 2>/dev/null || true
      q=$(awk '/^gitlab_gateway_upstream_queue_depth/ {print int($2)}' "$work/m.txt" | head -n1)
      f=$(awk '/^gitlab_gateway_upstream_in_flight/ {print int($2)}' "$work/m.txt" | head -n1)
      [ "${q:-0}" -gt "$qmax" ] && qmax=$q
      [ "${f:-0}" -gt "$fmax" ] && fmax=$f
    fi
    sleep 0.2
  done
  wait "$load" || { cat "$work/load.out" >&2; echo "measure-rss: $name failed" >&2; exit 1; }
  end=$(date +%s.%N)
  t1=$(cpu_ticks)
  printf '%-34s peak RSS %-10s after %-10s threads %-3s in flight <=%-3s queued <=%-4s CPU %.2f cores | %s\n' \
    "$name" "$(mib "$peak")" "$(mib "$(rss_kb)")" "$(threads)" "$fmax" "$qmax" \
    "$(awk -v a="$t0" -v b="$t1" -v s="$start" -v e="$end" -v hz="$hz" \
      'BEGIN {print (b - a) / hz / (e - s)}')" "$(cat "$work/load.out")"
}

echo "gateway: $gateway ($(stat -c %s "$gateway") bytes), $(nproc) cores, defaults" \
  "(max_in_flight 64, max_queue 10000, max_response_mb 64), rate limiter off"
sleep 5
echo "idle (5 s after SERVING):           RSS $(mib "$(rss_kb)"), threads $(threads)"
phase "1 KiB, no delay, 64 callers" /sized/0ms/1kb 64
phase "1 KiB, 50 ms upstream, 256 callers" /sized/50ms/1kb 256
phase "256 KiB, 20 ms upstream, 64 callers" /sized/20ms/256kb 64
phase "1 MiB, 20 ms upstream, 64 callers" /sized/20ms/1024kb 64
phase "8 MiB, 0 ms upstream, 16 callers" /sized/0ms/8192kb 16
sleep 5
echo "idle again (5 s after load):        RSS $(mib "$(rss_kb)"), peak (VmHWM) $(mib "$(hwm_kb)")"
curl -fsS "http://127.0.0.1:$metrics_port/metrics" \
  | grep -E '^gitlab_gateway_upstream_requests_total' | head -n3 || true
