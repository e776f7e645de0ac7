#!/usr/bin/env bash
# run_client_test.sh SRC_ROOT WORK_DIR LIVE_GATEWAY [[--secure|--mtls] SCRIPT...]
# Installs client/python as a user would (Debian's python3, a venv that sees
# python3-grpcio/python3-protobuf, pip offline from the folder; stubs built
# from proto/ at install time), then runs each SCRIPT under the venv's python
# against a live gateway + demo GitLab: plaintext, or after --secure (TLS and
# a bearer, from the environment) or --mtls (client certificates too), see
# with_live_gateway.sh. Default: the client test in plaintext, then the
# secure client test in both secure modes. GG_EXPECT (an extended regex),
# when set, must match the scripts' output.
set -euo pipefail
src=$(realpath "$1") work=$(realpath -m "$2") gateway=$(realpath "$3")
shift 3
mkdir -p "$work"
exec 9>"$work/.lock"
flock -w 300 9
rm -rf "$work/venv" "$work/src"
# A copy, so the in-tree build leaves nothing in the source folder.
cp -r "$src/client/python" "$work/src"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
GITLAB_GATEWAY_PROTO_DIR="$src/proto" "$work/venv/bin/python" -m pip install \
  --quiet --no-build-isolation --no-index "$work/src"
tests=$src/tests/client/python
[ $# -gt 0 ] || set -- "$tests/client_test.py" --secure "$tests/secure_client_test.py" \
  --mtls "$tests/secure_client_test.py"
cd "$work"
mode=()
for script in "$@"; do
  case "$script" in
    --secure|--mtls) mode=("$script"); continue ;;
  esac
  bash "$src/tests/client/with_live_gateway.sh" "$gateway" "${mode[@]}" -- \
    "$work/venv/bin/python" "$script" 2>&1 | tee "$work/output.txt"
  if [ -n "${GG_EXPECT:-}" ] && ! grep -qE "$GG_EXPECT" "$work/output.txt"; then
    echo "run_client_test: output of $script does not match '$GG_EXPECT'" >&2
    exit 1
  fi
done
