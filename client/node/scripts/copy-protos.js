// prepack: copies the API's .proto files into proto/ so the packed tarball
// carries them (the client loads them at run time: a field added to the API
// needs a repack, not a client change). Sources: the repository's proto/ and
// google/rpc from GITLAB_GATEWAY_GOOGLEAPIS_DIR (Debian's gogo googleapis).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const here = path.join(__dirname, '..');
const repoProto = process.env.GITLAB_GATEWAY_PROTO_DIR ?? path.join(here, '../../proto');
const googleapis = process.env.GITLAB_GATEWAY_GOOGLEAPIS_DIR ??
  '/usr/share/gocode/src/github.com/gogo/googleapis';
const files = [
  [repoProto, 'gitlab/gateway/v1/gateway.proto'],
  [googleapis, 'google/rpc/status.proto'],
  [googleapis, 'google/rpc/error_details.proto'],
];
const out = path.join(here, 'proto');
fs.rmSync(out, { recursive: true, force: true });
for (const [root, rel] of files) {
  const src = path.join(root, rel);
  if (!fs.existsSync(src)) {
    console.error(`copy-protos: ${src} not found`);
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
  fs.copyFileSync(src, path.join(out, rel));
}
console.log(`copy-protos: ${files.length} files into ${out}`);
