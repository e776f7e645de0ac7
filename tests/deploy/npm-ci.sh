#!/usr/bin/env bash
# ctest fixture for the deploy tests: installs the pinned npm packages
# (package-lock.json) into <dest>/node_modules with `npm ci`, only when they
# are missing or the lockfile changed. Installing into the build tree keeps the
# source tree clean and lets several build dirs run side by side.
#   npm-ci.sh <tests/deploy source dir> <dest dir>
set -euo pipefail
src=$1
dest=$2
mkdir -p "$dest"
exec 9>"$dest/.npm-ci.lock"
flock -w 600 9
if cmp -s "$src/package-lock.json" "$dest/package-lock.json" &&
   [ -f "$dest/node_modules/.package-lock.json" ]; then
  echo "deploy: node_modules up to date in $dest"
  exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
# No stdin, no scripts, no audit/fund chatter: CI runs this as root.
timeout 600 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error </dev/null
echo "deploy: installed $(ls node_modules | wc -l) packages into $dest/node_modules"
