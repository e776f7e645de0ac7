#!/usr/bin/env bash
# ctest fixture shared by the Node tests (tests/deploy, tests/client examples):
# copies package.json, package-lock.json and any further FILES from SRC_DIR to
# DEST_DIR and installs the locked packages there with `npm ci`, only when they
# are missing or the lockfile changed. Installing into the build tree keeps the
# source tree clean and lets several build dirs run side by side.
#   npm-ci.sh SRC_DIR DEST_DIR [FILE...]
# Runs non-interactively (CI: fresh clone, root, no stdin). The registry is the
# one network dependency of `make test`: a stalled fetch fails after 60 s
# (npm's default is 5 min) and is retried, and one whole retry follows.
set -euo pipefail
src=$1
dest=$2
shift 2
command -v npm >/dev/null || { echo "npm-ci: npm is not installed" >&2; exit 1; }
mkdir -p "$dest"
exec 9>"$dest/.npm-ci.lock"
flock -w 600 9
for f in package.json package-lock.json "$@"; do cp "$src/$f" "$dest/"; done
cd "$dest"
stamp=node_modules/.gitlab-gateway-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  echo "npm-ci: node_modules up to date in $dest"
  exit 0
fi
for attempt in 1 2; do
  rm -rf node_modules
  # --ignore-scripts: no dependency needs an install script to work.
  if timeout 300 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
       --prefer-offline --fetch-timeout=60000 --fetch-retries=4 </dev/null; then
    cp package-lock.json "$stamp"
    echo "npm-ci: installed $(ls node_modules | wc -l) packages into $dest"
    exit 0
  fi
  echo "npm-ci: attempt $attempt failed" >&2
done
exit 1
