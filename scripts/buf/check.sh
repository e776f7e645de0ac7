#!/usr/bin/env bash
# check.sh BUF SRC_ROOT WORK_DIR
# buf lint and buf breaking for proto/, offline: protoc (with Debian's
# google/rpc and well-known protos) builds images, buf checks them with the
# committed buf.yaml. Used by `make proto-check` and ctest proto_buf_check.
#
# Breaking is checked against the merge base of HEAD and BUF_AGAINST (a git
# ref, default main): on a branch, the API it started from. When that is
# this very commit and proto/ has no uncommitted change (CI on main), the
# first parent is used instead: the API as it was before the last commit or
# merge landed. Each check is first shown to fail on a known
# violation, so a broken setup cannot pass silently.
set -euo pipefail
buf=$(realpath "$1") src=$(realpath "$2") work=$(realpath -m "$3")
googleapis=${GG_GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}
api=gitlab/gateway/v1/gateway.proto
rm -rf "$work" && mkdir -p "$work"

protos() { (cd "$1" && find . -name '*.proto' | sed 's|^\./||' | sort); }
image() {  # image PROTO_ROOT OUT: every .proto under the root, imports too
  # shellcheck disable=SC2046
  (cd "$1" && protoc -I . -I "$googleapis" -I /usr/include --include_imports \
    --include_source_info -o "$2" $(protos .))
}
# Lint our files only (not the google/rpc imports in the image).
lint() {
  local paths=()
  for f in $(protos "$src/proto"); do paths+=(--path "$f"); done
  "$buf" lint "$1" --config "$src/buf.yaml" "${paths[@]}"
}
# The images' google/rpc files are the same on both sides.
breaking() {
  "$buf" breaking "$1" --against "$2" --config "$src/buf.yaml" \
    --against-config "$src/buf.yaml"
}

# Lint fails on a known violation, then passes on the API.
mkdir -p "$work/bad/$(dirname "$api")"
sed 's/^  string sudo = 10;/  string sudoUser = 10;/' "$src/proto/$api" >"$work/bad/$api"
image "$work/bad" "$work/bad.binpb"
if lint "$work/bad.binpb" >"$work/bad-lint.txt" 2>&1; then
  echo "proto-check: buf lint passed a camelCase field" >&2; exit 1
fi
image "$src/proto" "$work/current.binpb"
lint "$work/current.binpb"
echo "proto-check: buf lint: clean (STANDARD, buf.yaml)"

# Breaking: the base API.
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || {
  echo "proto-check: $src is not a git checkout; buf breaking needs one" >&2; exit 1; }
ref=${BUF_AGAINST:-main}
# A clone of another branch has main only as origin/main.
if ! git -C "$src" rev-parse --verify --quiet "$ref^{commit}" >/dev/null &&
   git -C "$src" rev-parse --verify --quiet "origin/$ref^{commit}" >/dev/null; then
  ref=origin/$ref
fi
git -C "$src" rev-parse --verify --quiet "$ref^{commit}" >/dev/null || {
  echo "proto-check: no git ref '$ref' to check breaking changes against" >&2; exit 1; }
# The merge base: on a branch, the API it started from (fields main gained
# since are not this branch's deletions).
base=$(git -C "$src" merge-base HEAD "$ref")
if [ "$base" = "$(git -C "$src" rev-parse HEAD)" ] &&
   git -C "$src" diff --quiet HEAD -- proto; then
  base=$(git -C "$src" rev-parse --verify --quiet "HEAD^1") || {
    echo "proto-check: HEAD is $ref and has no parent to compare with" >&2; exit 1; }
  ref="$ref^1"
fi
mkdir -p "$work/base"
git -C "$src" archive "$base" proto | tar -x -C "$work/base"
image "$work/base/proto" "$work/base.binpb"

# Breaking fails on a known break (a field renumbered), then on the API.
sed 's/^  string sudo = 10;/  string sudo = 99;/' "$src/proto/$api" >"$work/bad/$api"
image "$work/bad" "$work/bad.binpb"
if breaking "$work/bad.binpb" "$work/base.binpb" >"$work/bad-breaking.txt" 2>&1; then
  echo "proto-check: buf breaking passed a renumbered field" >&2; exit 1
fi
breaking "$work/current.binpb" "$work/base.binpb"
echo "proto-check: buf breaking: none against $ref (${base:0:12})"
