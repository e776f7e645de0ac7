#!/usr/bin/env bash
# with_live_gateway.sh LIVE_GATEWAY [--secure [--mtls]] -- COMMAND [ARGS...]
#
# Starts LIVE_GATEWAY (a gateway + demo GitLab on 127.0.0.1, ephemeral
# ports), runs COMMAND with GITLAB_GATEWAY_TARGET=127.0.0.1:<port>, stops the
# gateway, and exits with COMMAND's status. Bounded: the gateway stops itself
# after 200 s, the address must come within 30 s and COMMAND is killed
# after 150 s (+5 s for KILL): at most 185 s per run, which the ctest
# TIMEOUTs of tests/client/CMakeLists.txt allow for every run of a test.
#
# Plaintext by default (anyone may spend the gateway's token). --secure: TLS,
# and only callers with the bearer secret may (live_gateway.cc --secure);
# COMMAND gets the clients' own environment (what a deployment would set):
#   GITLAB_GATEWAY_CA_FILE       the CA of the gateway's certificate
#   GITLAB_GATEWAY_CALLER_TOKEN  caller "example-app"'s bearer secret
# and, for tests that need them:
#   GG_TEST_GATEWAY_MODE         plaintext, tls or mtls
#   GG_TEST_CALLER_TOKEN_FILE    the same secret in a file
#   GG_TEST_CLIENT_CERT_FILE, GG_TEST_CLIENT_KEY_FILE  a client certificate
#                                from that CA (CN example-app)
#   GG_TEST_OTHER_CA_FILE        an unrelated CA
# --mtls: the gateway also requires a client certificate from the CA, and
# GITLAB_GATEWAY_CERT_FILE / GITLAB_GATEWAY_KEY_FILE name the one above.
set -euo pipefail
gateway=$1
shift
mode=plaintext
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    --secure) [ $mode = mtls ] || mode=tls ;;
    --mtls) mode=mtls ;;
    *) echo "with_live_gateway: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ "${1:-}" = "--" ] && shift

# The cleanup is in place before anything exists that it removes: the temp
# dir holds the CA key and the caller token.
dir= gw_pid=
cleanup() {
  if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
    kill -TERM "$gw_pid" 2>/dev/null || true
    wait "$gw_pid" 2>/dev/null || true
  fi
  [ -z "$dir" ] || rm -rf "$dir"
}
trap cleanup EXIT

gateway_args=(--max_seconds 200)
if [ $mode != plaintext ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/gg-live-gateway-XXXXXX")
  gateway_args+=(--secure "$dir")
  [ $mode = mtls ] && gateway_args+=(--mtls)
fi

# The gateway's stdin is this coprocess pipe: closing it (or our death)
# stops the gateway even if the TERM below never comes.
coproc GW { exec "$gateway" "${gateway_args[@]}"; }
gw_pid=$GW_PID

if ! read -r -t 30 -u "${GW[0]}" target; then
  echo "with_live_gateway: $gateway printed no address within 30 s" >&2
  exit 1
fi
case "$target" in
  127.0.0.1:[0-9]*) ;;
  *) echo "with_live_gateway: unexpected address '$target'" >&2; exit 1 ;;
esac
export GITLAB_GATEWAY_TARGET=$target GG_TEST_GATEWAY_MODE=$mode
# Whatever the calling environment holds does not leak into the test.
unset GITLAB_GATEWAY_CA_FILE GITLAB_GATEWAY_CERT_FILE GITLAB_GATEWAY_KEY_FILE \
  GITLAB_GATEWAY_CALLER_TOKEN
if [ $mode != plaintext ]; then
  export GITLAB_GATEWAY_CA_FILE=$dir/ca.pem \
    GITLAB_GATEWAY_CALLER_TOKEN="$(cat "$dir/caller-token")" \
    GG_TEST_CALLER_TOKEN_FILE=$dir/caller-token \
    GG_TEST_CLIENT_CERT_FILE=$dir/client.pem GG_TEST_CLIENT_KEY_FILE=$dir/client.key \
    GG_TEST_OTHER_CA_FILE=$dir/other-ca.pem
  if [ $mode = mtls ]; then
    export GITLAB_GATEWAY_CERT_FILE=$dir/client.pem GITLAB_GATEWAY_KEY_FILE=$dir/client.key
  fi
fi
echo "with_live_gateway: $mode gateway at $target; running $*" >&2

set +e
timeout --kill-after=5 150 "$@"
rc=$?
set -e
[ $rc -eq 124 ] && echo "with_live_gateway: '$*' timed out" >&2
exit $rc
