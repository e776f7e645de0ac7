#!/usr/bin/env bash
# run_client_test.sh SRC_ROOT WORK_DIR LIVE_GATEWAY
# Packs client/node as a publisher would (`npm ci`, `npm pack`, which copies
# the protos in), installs the tarball into a fresh consumer project, checks
# the consumer's TypeScript against the package's types, then runs the
# client tests (node --test) and examples/node/project_summary.mjs from the
# consumer against a live gateway + demo GitLab: client.test.mjs in
# plaintext, secure.test.mjs with TLS + a bearer and with mTLS, the example
# over TLS with a bearer from the environment (with_live_gateway.sh
# --secure). npm packages come from the local cache when present
# (--prefer-offline), as tests/support/npm-ci.sh.
set -euo pipefail
src=$(realpath "$1") work=$(realpath -m "$2") gateway=$(realpath "$3")
command -v npm >/dev/null || { echo "node client: npm is not installed" >&2; exit 1; }
npm_flags=(--no-audit --no-fund --loglevel=error --prefer-offline
  --fetch-timeout=60000 --fetch-retries=4)
mkdir -p "$work"
exec 9>"$work/.lock"
flock -w 600 9
rm -rf "$work/pkg" "$work/consumer" "$work"/*.tgz
mkdir -p "$work/pkg" "$work/consumer"
(cd "$src/client/node" && cp -r package.json package-lock.json lib scripts "$work/pkg/")
cd "$work/pkg"
timeout 300 npm ci "${npm_flags[@]}" --ignore-scripts </dev/null
GITLAB_GATEWAY_PROTO_DIR="$src/proto" npm pack --pack-destination "$work" </dev/null
tarball=$(ls "$work"/gitlab-gateway-client-*.tgz)
tar -tzf "$tarball" >"$work/contents.txt"
grep -q package/proto/gitlab/gateway/v1/gateway.proto "$work/contents.txt"

cd "$work/consumer"
cp "$src/tests/client/node/client.test.mjs" "$src/tests/client/node/secure.test.mjs" \
  "$src/tests/client/node/consumer.ts" \
  "$src/examples/node/project_summary.mjs" .
cat > package.json <<JSON
{ "name": "consumer", "private": true, "type": "module",
  "dependencies": { "gitlab-gateway-client": "file:$tarball" },
  "devDependencies": { "typescript": "5.9.3", "@types/node": "^22.0.0" } }
JSON
timeout 300 npm install "${npm_flags[@]}" --ignore-scripts </dev/null
npx --no-install tsc --noEmit --strict --module nodenext --moduleResolution nodenext \
  --target es2022 --skipLibCheck false --types node consumer.ts
echo "node client: consumer.ts type-checks against the packed index.d.ts"

with="$src/tests/client/with_live_gateway.sh"
bash "$with" "$gateway" -- node --test --test-reporter=spec client.test.mjs
for mode in --secure --mtls; do
  bash "$with" "$gateway" $mode -- node --test --test-reporter=spec secure.test.mjs
done
GITLAB_PROJECT=group/demo bash "$with" "$gateway" --secure -- node project_summary.mjs \
  | tee example.txt
grep -q '^project 42: group/demo' example.txt

# download/downloadTo/upload (client/node/lib/transfers.js).
cp "$src/tests/client/node/transfers.test.mjs" .
bash "$with" "$gateway" -- node --test --test-reporter=spec transfers.test.mjs
