#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang-14 in $FUZZ_DIR and
# runs each, one after the other, for FUZZ_SECONDS; fails on the first crash,
# leak, sanitizer report or broken invariant (the input is kept under
# $FUZZ_DIR/fuzz/artifacts/<target>/). CI runs it as is; `make fuzz` too.
#   scripts/fuzz.sh                       # every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh request_fuzzer
# Env: FUZZ_SECONDS (60), FUZZ_DIR (build-fuzz), JOBS (nproc),
#      FUZZ_CMAKE_ARGS (extra cmake arguments, e.g. a compiler launcher).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_DIR=${FUZZ_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}

bash scripts/install-deps.sh fuzz
# shellcheck disable=SC2086
CC=clang-14 CXX=clang++-14 cmake -S . -B "$FUZZ_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGG_FUZZ=ON -DBUILD_TESTING=OFF \
  ${FUZZ_CMAKE_ARGS:-} >/dev/null
cmake --build "$FUZZ_DIR" -j "$JOBS" --target fuzz_targets

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/*_fuzzer.cc; do
    t=$(basename "$f" .cc)
    targets+=("$t")
  done
fi

for t in "${targets[@]}"; do
  # New inputs go to a work corpus in the build tree; the checked-in seeds
  # (tests/fuzz/corpus/<target>) are only read.
  work="$FUZZ_DIR/fuzz/corpus/$t"
  artifacts="$FUZZ_DIR/fuzz/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  log="$FUZZ_DIR/fuzz/$t.log"
  echo "fuzz: $t for ${FUZZ_SECONDS}s" >&2
  rc=0
  "$FUZZ_DIR/tests/fuzz/$t" -max_total_time="$FUZZ_SECONDS" \
    -print_final_stats=1 -artifact_prefix="$artifacts/" \
    -dict="tests/fuzz/$t.dict" "$work" "tests/fuzz/corpus/$t" \
    >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "fuzz: $t FAILED (exit $rc) after ${runs:-?} runs; input in $artifacts/" >&2
    exit 1
  fi
  echo "fuzz: $t ok, ${runs:-?} runs in ${FUZZ_SECONDS}s" >&2
done
