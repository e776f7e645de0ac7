#!/usr/bin/env bash
# run.sh BUILD_DIR WORK_DIR LIVE_GATEWAY
#
# Installs the gg_client component of BUILD_DIR into WORK_DIR/prefix, builds
# this directory against it with find_package(gitlab_gateway_client), and
# runs the result against a live gateway. Proves the package is complete
# (headers, generated proto headers, libraries, dependencies) and relocatable.
set -euo pipefail
build=$1
work=$2
gateway=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" --component gg_client >/dev/null
# Nothing installed may point back into the build or source tree.
if grep -rl -e "$(cd "$build" && pwd)" -e "$(cd "$here/../../.." && pwd)" \
    "$work/prefix/lib/cmake" 2>/dev/null; then
  echo "run.sh: the installed package refers to the build or source tree" >&2
  exit 1
fi
test -f "$work/prefix/include/gitlab_gateway/client/client.h"
test -f "$work/prefix/include/gitlab/gateway/v1/gateway.grpc.pb.h"
test -f "$work/prefix/include/google/rpc/error_details.pb.h"
# GG_CONSUMER_FLAGS: e.g. -fsanitize=... when the installed libraries are.
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="${GG_CONSUMER_FLAGS:-}" \
  -DCMAKE_EXE_LINKER_FLAGS="${GG_CONSUMER_FLAGS:-}" >/dev/null
cmake --build "$work/build" -j 2 >/dev/null
bash "$here/../with_live_gateway.sh" "$gateway" -- "$work/build/consumer"
