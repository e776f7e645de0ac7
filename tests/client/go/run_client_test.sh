#!/usr/bin/env bash
# run_client_test.sh SRC_ROOT WORK_DIR LIVE_GATEWAY
# Builds client/go offline with Debian's Go toolchain: stubs generated from
# proto/ (client/go/generate.sh), GOPATH mode against /usr/share/gocode
# (golang-google-grpc-dev, golang-google-protobuf-dev,
# golang-google-genproto-dev, golang-github-golang-protobuf-1-5-dev); no
# module proxy. Then runs the tests against a live gateway + demo GitLab:
# client_test.go in plaintext, secure_test.go with TLS + a bearer and with
# mTLS (with_live_gateway.sh --secure/--mtls); and
# examples/go/project_summary over TLS with a bearer from the environment.
set -euo pipefail
src=$(realpath "$1") work=$(realpath -m "$2") gateway=$(realpath "$3")
command -v go >/dev/null || { echo "go client: go is not installed (golang-go)" >&2; exit 1; }
mkdir -p "$work"
exec 9>"$work/.lock"
flock -w 300 9
gopath=$work/gopath
pkg=$gopath/src/gitlab-gateway/client/go
example=$gopath/src/gitlab-gateway/examples/go/project_summary
rm -rf "$gopath/src"
mkdir -p "$(dirname "$pkg")" "$(dirname "$example")"
cp -r "$src/client/go" "$pkg"
rm -rf "$pkg/gatewayv1"
cp -r "$src/examples/go/project_summary" "$example"
PROTO_DIR="$src/proto" bash "$pkg/generate.sh"
export GO111MODULE=off GOPATH=$gopath:/usr/share/gocode GOCACHE=$work/gocache \
  GOFLAGS= GOPROXY=off
cd "$pkg"
go vet . ./gatewayv1
go build -o "$work/project_summary" gitlab-gateway/examples/go/project_summary
with="$src/tests/client/with_live_gateway.sh"
go test -c -o "$work/client.test" .
bash "$with" "$gateway" -- "$work/client.test" -test.count=1 -test.v
for mode in --secure --mtls; do
  bash "$with" "$gateway" $mode -- "$work/client.test" -test.count=1 -test.v \
    -test.run 'Secure|MutualTLS'
done
GITLAB_PROJECT=group/demo bash "$with" "$gateway" --secure -- "$work/project_summary" \
  | tee "$work/example.txt"
grep -q '^project 42: group/demo' "$work/example.txt"
