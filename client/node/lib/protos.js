// Loads the API's .proto files once, at first use: from the package's own
// proto/ (copied there by `npm pack`), else from GITLAB_GATEWAY_PROTO_PATH
// (":"-separated roots), else from a repository checkout + Debian's
// googleapis. Fields added to the proto appear here without a code change.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const FILES = ['gitlab/gateway/v1/gateway.proto', 'google/rpc/status.proto',
  'google/rpc/error_details.proto'];

function includeDirs() {
  if (process.env.GITLAB_GATEWAY_PROTO_PATH) {
    return process.env.GITLAB_GATEWAY_PROTO_PATH.split(':');
  }
  const own = path.join(__dirname, '..', 'proto');
  if (fs.existsSync(path.join(own, FILES[0]))) return [own];
  return [path.join(__dirname, '../../../proto'),
    '/usr/share/gocode/src/github.com/gogo/googleapis'];
}

function resolve(dirs, rel) {
  for (const dir of dirs) {
    const candidate = path.join(dir, rel);
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

let definition = null;
let root = null;

// The grpc-js package definition (camelCase fields, longs as Number).
function packageDefinition() {
  definition ??= protoLoader.loadSync(FILES, {
    includeDirs: includeDirs(), keepCase: false, longs: Number, enums: String,
    defaults: true, oneofs: true,
  });
  return definition;
}

// A protobufjs Root for decoding google.protobuf.Any details.
function types() {
  if (root) return root;
  const dirs = includeDirs();
  const r = new protobuf.Root();
  r.resolvePath = (origin, target) => {
    const found = resolve(dirs, target);
    return found ?? protobuf.util.path.resolve(origin, target);
  };
  r.loadSync(FILES, { keepCase: false });
  root = r;
  return root;
}

module.exports = { packageDefinition, types };
