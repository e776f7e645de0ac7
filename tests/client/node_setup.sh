#!/usr/bin/env bash
# node_setup.sh SRC_DIR OUT_DIR
#
# Copies examples/node (package.json, package-lock.json, *.mjs) to OUT_DIR and
# installs the locked dependencies there with `npm ci` when they are missing
# or the lockfile changed. Runs non-interactively (CI: fresh clone, root, no
# stdin).
set -euo pipefail
src=$1
out=$2
command -v node >/dev/null || { echo "node_setup: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "node_setup: npm is not installed" >&2; exit 1; }
mkdir -p "$out"
cp "$src"/package.json "$src"/package-lock.json "$src"/*.mjs "$out"/
cd "$out"
stamp=node_modules/.gitlab-gateway-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  echo "node_setup: node_modules up to date in $out"
  exit 0
fi
rm -rf node_modules
# --ignore-scripts: no dependency needs an install script to work.
timeout 280 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error </dev/null
cp package-lock.json "$stamp"
node -e "require.resolve('@grpc/grpc-js'); require.resolve('grpc-js-reflection-client')"
echo "node_setup: installed $(ls node_modules | wc -l) packages in $out"
