#!/usr/bin/env bash
# with_live_gateway.sh LIVE_GATEWAY -- COMMAND [ARGS...]
#
# Starts LIVE_GATEWAY (a gateway + demo GitLab on 127.0.0.1, ephemeral
# ports), runs COMMAND with GITLAB_GATEWAY_TARGET=127.0.0.1:<port>, stops the
# gateway, and exits with COMMAND's status. Bounded: the gateway stops itself
# after 200 s and COMMAND is killed after 150 s.
set -euo pipefail
gateway=$1
shift
[ "${1:-}" = "--" ] && shift

# The gateway's stdin is this coprocess pipe: closing it (or our death)
# stops the gateway even if the TERM below never comes.
coproc GW { exec "$gateway" --max_seconds 200; }
gw_pid=$GW_PID
stop_gateway() {
  if kill -0 "$gw_pid" 2>/dev/null; then
    kill -TERM "$gw_pid" 2>/dev/null || true
    wait "$gw_pid" 2>/dev/null || true
  fi
}
trap stop_gateway EXIT

if ! read -r -t 30 -u "${GW[0]}" target; then
  echo "with_live_gateway: $gateway printed no address within 30 s" >&2
  exit 1
fi
case "$target" in
  127.0.0.1:[0-9]*) ;;
  *) echo "with_live_gateway: unexpected address '$target'" >&2; exit 1 ;;
esac
export GITLAB_GATEWAY_TARGET=$target
echo "with_live_gateway: gateway at $target; running $*" >&2

set +e
timeout --kill-after=5 150 "$@"
rc=$?
set -e
[ $rc -eq 124 ] && echo "with_live_gateway: '$*' timed out" >&2
exit $rc
