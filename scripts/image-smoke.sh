#!/usr/bin/env bash
# Smoke test of the built image, without a Docker daemon: starts the gateway
# inside the image (`buildah run --isolation chroot`, host network, as the
# image's non-root user, token file mounted read-only as in k8s) against a fake
# GitLab on 127.0.0.1, then checks
#   - grpc.health.v1 reports SERVING, one Execute returns GitLab's answer and
#     the fake saw the token from the mounted file,
#   - /metrics counts the call,
#   - SIGTERM drains and the process exits 0 (the image's STOPSIGNAL),
#   - the image runs as a numeric non-root user, has no compiler, and every
#     shared library of its binaries resolves.
# Loopback only; every wait is bounded. Takes well under a minute once the
# image exists (scripts/build-image.sh).
#
#   scripts/image-smoke.sh                      # localhost/gitlab-gateway:dev
#   IMAGE=localhost/gitlab-gateway:1.2 scripts/image-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-localhost/gitlab-gateway:dev}
PY=/usr/bin/python3 # Debian's python3-grpcio is visible only to this one
start=$(date +%s)

log() { printf '%s image-smoke: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (buildah)"
if ! command -v buildah >/dev/null || ! $PY -c 'import grpc' 2>/dev/null; then
  log "installing buildah and python3-grpcio"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends buildah python3-grpcio >/dev/null
fi
buildah inspect --type image "$IMAGE" >/dev/null 2>&1 ||
  die "no image $IMAGE; run scripts/build-image.sh first"

work=$(mktemp -d)
ctr=""
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # wait_for FILE REGEX SECONDS -> first capture of REGEX
  local deadline=$(($(date +%s) + $3))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if grep -qE "$2" "$1" 2>/dev/null; then
      sed -nE "s/.*$2.*/\1/p" "$1" | head -n1
      return 0
    fi
    sleep 0.2
  done
  return 1
}
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Static checks of the image config.
user=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
[[ "$user" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || die "image USER '$user' is not a numeric non-root uid"
[ "$(buildah inspect --type image --format '{{.OCIv1.Config.StopSignal}}' "$IMAGE")" = SIGTERM ] ||
  die "STOPSIGNAL is not SIGTERM"
log "image $IMAGE: user $user, stop signal SIGTERM"

ctr=$(buildah from --pull=never --quiet "$IMAGE")
run() { buildah run --isolation chroot --network host --user "$user" "$@"; }
run "$ctr" -- sh -c 'for b in /usr/local/bin/*; do ldd "$b"; done' >"$work/ldd.txt"
if grep -q "not found" "$work/ldd.txt"; then
  grep "not found" "$work/ldd.txt" >&2
  die "unresolved shared libraries"
fi
if run "$ctr" -- sh -c 'command -v c++ || command -v gcc || command -v cmake' >/dev/null 2>&1; then
  die "a compiler or build tool is in the runtime image"
fi
log "binaries: $(run "$ctr" -- ls /usr/local/bin | tr '\n' ' ')(all libraries resolve, no toolchain)"
if run "$ctr" -- test -x /usr/local/bin/gitlab-gateway-cli 2>/dev/null; then
  run "$ctr" -- /usr/local/bin/gitlab-gateway-cli --help >/dev/null 2>&1 ||
    die "gitlab-gateway-cli --help failed"
fi

# The fake GitLab on loopback.
$PY tests/deploy/fake_gitlab.py --log --max-seconds 180 >"$work/fake.out" 2>&1 &
pids+=($!)
fake_port=$(wait_for "$work/fake.out" 'listening on ([0-9]+)' 10) || die "fake GitLab did not start"

# A token file mounted read-only where the Deployment mounts the Secret (the
# path is read from the manifest, so the two cannot drift apart).
token_file=$(grep -A1 'name: GITLAB_TOKEN_FILE' k8s/base/deployment.yaml | sed -n 's/.*value: *//p')
[ -n "$token_file" ] || die "no GITLAB_TOKEN_FILE in k8s/base/deployment.yaml"
mkdir -p "$work/secret"
printf 'smoke-test-placeholder-token\n' >"$work/secret/token"
chmod 0444 "$work/secret/token"
grpc_port=$(free_port)
metrics_port=$(free_port)
log "fake GitLab on 127.0.0.1:$fake_port; gateway gRPC :$grpc_port, metrics :$metrics_port"

timeout 120 buildah run --isolation chroot --network host --user "$user" \
  -v "$work/secret:$(dirname "$token_file"):ro" \
  -e GITLAB_URL="http://127.0.0.1:$fake_port" \
  -e GITLAB_TOKEN_FILE="$token_file" \
  -e GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN=true \
  -e GITLAB_GATEWAY_LISTEN="127.0.0.1:$grpc_port" \
  -e GITLAB_GATEWAY_METRICS_LISTEN="127.0.0.1:$metrics_port" \
  -e GITLAB_GATEWAY_SHUTDOWN_GRACE=5s \
  "$ctr" -- /usr/local/bin/gitlab-gateway >"$work/gw.out" 2>&1 &
runner=$!
pids+=($runner)
if ! wait_for "$work/gw.out" 'serving gRPC on port ([0-9]+)' 30 >/dev/null; then
  cat "$work/gw.out" >&2
  die "the gateway did not start in the image"
fi
ready=$(date +%s)

$PY tests/deploy/gateway_call.py health --target "127.0.0.1:$grpc_port" --wait 15 ||
  die "health is not SERVING"
$PY tests/deploy/gateway_call.py execute --target "127.0.0.1:$grpc_port" --path /version \
  | tee "$work/execute.out" >&2 || die "Execute failed"
grep -q '16.11.0-fake' "$work/execute.out" || die "Execute did not return the fake's body"
grep -q 'GET /api/v4/version private-token=present' "$work/fake.out" ||
  die "GitLab did not receive the token from the mounted file"
curl -fsS --max-time 5 "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt" ||
  die "/metrics is not served"
grep -E '^gitlab_gateway_upstream_requests_total\{.*code="200".*\} 1' "$work/metrics.txt" >&2 ||
  die "/metrics does not count the call"

# SIGTERM to the gateway process itself: a descendant of this buildah run.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
    echo "$child"
    descendants "$child"
  done
}
gw_pid=""
for _ in $(seq 50); do
  for p in $(descendants "$runner"); do
    if [ "$(cat "/proc/$p/comm" 2>/dev/null || true)" = gitlab-gateway ]; then gw_pid=$p; fi
  done
  [ -n "$gw_pid" ] && break
  sleep 0.1
done
[ -n "$gw_pid" ] || die "cannot find the gateway process under buildah run ($runner)"
kill -TERM "$gw_pid"
set +e
wait "$runner"
rc=$?
set -e
grep -q 'stopped' "$work/gw.out" || { cat "$work/gw.out" >&2; die "no clean drain after SIGTERM"; }
[ "$rc" -eq 0 ] || { cat "$work/gw.out" >&2; die "exit status $rc after SIGTERM, want 0"; }
log "SIGTERM: drained and exited 0"
sed 's/^/  gateway: /' "$work/gw.out" >&2
log "PASS in $(($(date +%s) - start))s (gateway serving $((ready - start))s into the run)"
