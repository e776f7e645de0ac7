#!/usr/bin/env bash
# Generates gatewayv1/ (messages and the gRPC client) from the repository's
# proto/ with Debian's protoc-gen-go and protoc-gen-go-grpc; run by
# `go generate` (see doc.go) and by the tests, so the Go code always follows
# the proto. google.rpc maps to google.golang.org/genproto (Debian:
# golang-google-genproto-dev).
#   PROTO_DIR (default ../../proto), GOOGLEAPIS_DIR (gogo googleapis)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto_dir=${PROTO_DIR:-$here/../../proto}
googleapis=${GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}
for tool in protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v $tool >/dev/null || {
    echo "generate.sh: $tool not found (Debian: protobuf-compiler, protoc-gen-go, protoc-gen-go-grpc)" >&2
    exit 1
  }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
map=Mgoogle/rpc/status.proto=google.golang.org/genproto/googleapis/rpc/status
protoc -I "$proto_dir" -I "$googleapis" -I /usr/include \
  --go_out="$out" --go_opt=paths=source_relative,$map \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative,$map \
  "$proto_dir/gitlab/gateway/v1/gateway.proto"
mkdir -p "$here/gatewayv1"
cp "$out"/gitlab/gateway/v1/*.go "$here/gatewayv1/"
