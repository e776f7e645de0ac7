// Calls gitlab-gateway from Node with @grpc/grpc-js + @grpc/proto-loader:
// one Execute, one BatchExecute, typed errors decoded from the
// google.rpc.Status in the grpc-status-details-bin trailer, and a
// grpc.health.v1 Check.
//
//   npm ci
//   GITLAB_GATEWAY_TARGET=localhost:50051 node gateway_example.mjs
//
// GG_PROTO_PATH (":"-separated) finds gitlab/gateway/v1/gateway.proto,
// google/rpc/*.proto and grpc/health/v1/health.proto; the default suits a
// checkout on Debian with golang-github-gogo-googleapis-dev and grpc-proto. The test suite runs it against the demo
// GitLab of tests/client/live_gateway; a failed check exits non-zero.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const includeDirs = (process.env.GG_PROTO_PATH ??
  [path.join(here, '../../proto'),
   '/usr/share/gocode/src/github.com/gogo/googleapis', '/usr/share/grpc-proto',
   '/usr/include'].join(':'))
  .split(':');
const target = process.env.GITLAB_GATEWAY_TARGET ?? 'localhost:50051';
const protos = ['gitlab/gateway/v1/gateway.proto', 'google/rpc/error_details.proto',
  'grpc/health/v1/health.proto'];

// Stubs for the calls.
const definition = protoLoader.loadSync(protos, {
  includeDirs, keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
});
const loaded = grpc.loadPackageDefinition(definition);
const { Gateway } = loaded.gitlab.gateway.v1;
const { Health } = loaded.grpc.health.v1;

// Decoders for error details (google.protobuf.Any payloads).
const root = new protobuf.Root();
root.resolvePath = (origin, file) =>
  includeDirs.map((dir) => path.join(dir, file)).find((p) => fs.existsSync(p)) ?? file;
root.loadSync(protos, { keepCase: true });

function decodeStatus(bytes) {
  return root.lookupType('google.rpc.Status').decode(bytes);
}

// The typed details of a google.rpc.Status, grouped by type name.
function decodeDetails(status) {
  const found = {};
  for (const any of status.details) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const message = root.lookupType(typeName).decode(any.value);
    (found[typeName] ??= []).push(message);
  }
  return found;
}

function check(condition, what) {
  assert.ok(condition, what);
  console.log(`ok: ${what}`);
}

// gRPC refuses messages over 4 MiB by default; Execute answers may be as large
// as the gateway's --max_response_mb (64 MiB by default). Bigger bodies: use
// Download, which streams them in 1 MiB messages.
const client = new Gateway(target, grpc.credentials.createInsecure(), {
  "grpc.max_receive_message_length": 64 << 20,
});
const deadline = () => new Date(Date.now() + 20_000);
const execute = (request) => new Promise((resolve, reject) =>
  client.Execute(request, { deadline: deadline() },
    (error, response) => (error ? reject(error) : resolve(response))));

async function executeOk() {
  const response = await execute({ path: '/projects/42' });
  check(response.status_code === 200, 'Execute GET /projects/42 answers 200');
  check(JSON.parse(response.text).name === 'demo', "Execute returns the project's JSON");
}

async function typedErrors() {
  const notFound = await execute({ path: '/projects/7' }).then(
    () => assert.fail('GET /projects/7 should fail'), (e) => e);
  check(notFound.code === grpc.status.NOT_FOUND, '404 is NOT_FOUND');
  const [bytes] = notFound.metadata.get('grpc-status-details-bin');
  const details = decodeDetails(decodeStatus(bytes));
  const [info] = details['google.rpc.ErrorInfo'];
  check(info.reason === 'GITLAB_NOT_FOUND', 'ErrorInfo.reason');
  check(info.metadata.httpStatus === '404', 'ErrorInfo httpStatus');
  const [gitlab] = details['gitlab.gateway.v1.GitLabError'];
  check(gitlab.status_code === 404 && gitlab.message.includes('Project Not Found'),
    "GitLabError carries GitLab's status and message");

  const invalid = await execute({ method: 'POST', path: '/projects', text: '{"description":"x"}' })
    .then(() => assert.fail('POST /projects without a name should fail'), (e) => e);
  check(invalid.code === grpc.status.INVALID_ARGUMENT, '400 is INVALID_ARGUMENT');
  const [bad] = decodeDetails(decodeStatus(invalid.metadata.get('grpc-status-details-bin')[0]))[
    'google.rpc.BadRequest'];
  check(bad.field_violations.some((v) => v.field === 'name' && v.description === "can't be blank"),
    'BadRequest names the field GitLab refused');
}

async function batch() {
  const responses = await new Promise((resolve, reject) => {
    const call = client.BatchExecute({ deadline: deadline() });
    const got = {};
    call.on('data', (response) => { got[response.id] = response; });
    call.on('error', reject);
    call.on('end', () => resolve(got));
    call.write({ id: 'project', path: '/projects/42' });
    call.write({ id: 'missing', path: '/projects/7' });
    call.write({ id: 'created', method: 'POST', path: '/projects', text: '{"name":"new"}' });
    call.end();
  });
  check(Object.keys(responses).sort().join() === 'created,missing,project',
    'BatchExecute answers each request once, by id');
  check(responses.project.status_code === 200, 'batch item 200');
  check(responses.created.status_code === 201, 'batch item 201');
  const { error } = responses.missing;
  check(error.code === grpc.status.NOT_FOUND, 'failed batch item carries its status in Response.error');
  const [info] = decodeDetails(error)['google.rpc.ErrorInfo'];
  check(info.reason === 'GITLAB_NOT_FOUND', 'batch item error decodes');
}

async function healthCheck() {
  const health = new Health(target, grpc.credentials.createInsecure());
  try {
    const answer = await new Promise((resolve, reject) =>
      health.Check({ service: '' }, { deadline: deadline() },
        (error, response) => (error ? reject(error) : resolve(response))));
    check(answer.status === 'SERVING', 'grpc.health.v1 Check answers SERVING');
  } finally {
    health.close();
  }
}

try {
  await healthCheck();
  await executeOk();
  await typedErrors();
  await batch();
  console.log('node gateway example: all checks passed');
} finally {
  client.close();
}
