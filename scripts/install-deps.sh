#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/deps/<set>.txt (default: every
# set used by `make test`: core plus any *.txt marked "# make-test").
# Idempotent and quiet: does nothing when everything is already present.
#   scripts/install-deps.sh            # what make run / make test need
#   scripts/install-deps.sh bench      # scripts/deps/bench.txt only
set -euo pipefail
cd "$(dirname "$0")/deps"

if [ $# -eq 0 ]; then
  sets=(core)
  for f in *.txt; do
    [ "$f" = core.txt ] && continue
    if grep -q '^# make-test' "$f"; then sets+=("${f%.txt}"); fi
  done
else
  sets=("$@")
fi

packages=()
for s in "${sets[@]}"; do
  [ -f "$s.txt" ] || { echo "install-deps: no package set '$s'" >&2; exit 2; }
  # shellcheck disable=SC2207
  packages+=($(sed 's/#.*//' "$s.txt"))
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
