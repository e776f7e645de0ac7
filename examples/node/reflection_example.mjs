// A reflection-only caller: no .proto files. Like grpcurl, it discovers the
// gateway through server reflection (grpc-js-reflection-client), lists the
// services and makes an Execute from a JSON request.
//
//   npm ci
//   GITLAB_GATEWAY_TARGET=localhost:50051 GITLAB_PROJECT=group/project \
//     node reflection_example.mjs            # or: ... '{"path":"/version"}'
//
// Without an argument it GETs the project GITLAB_PROJECT names (an id or a
// full path, sent %2F-encoded) and checks the answer; works against any
// GitLab. A failed check exits non-zero.
import assert from 'node:assert/strict';

import * as grpc from '@grpc/grpc-js';
import { GrpcReflection } from 'grpc-js-reflection-client';

const target = process.env.GITLAB_GATEWAY_TARGET ?? 'localhost:50051';
const project = encodeURIComponent(process.env.GITLAB_PROJECT ?? '');
if (process.argv[2] === undefined && !project) {
  console.error('set GITLAB_PROJECT (an id or group/project) or pass a JSON request');
  process.exit(2);
}
const requestJson = process.argv[2] ??
  JSON.stringify({ id: 'reflected', method: 'GET', path: `/projects/${project}` });
const loaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const callOptions = () => ({ deadline: new Date(Date.now() + 20_000) });

function check(condition, what) {
  assert.ok(condition, what);
  console.log(`ok: ${what}`);
}

const reflection = new GrpcReflection(target, grpc.credentials.createInsecure());

const services = await reflection.listServices();
console.log(`services: ${services.join(', ')}`);
check(services.includes('gitlab.gateway.v1.Gateway'), 'reflection lists gitlab.gateway.v1.Gateway');

const methods = (await reflection.listMethods('gitlab.gateway.v1.Gateway')).map((m) => m.name);
console.log(`methods: ${methods.join(', ')}`);
check(['Execute', 'BatchExecute', 'Paginate'].every((m) => methods.includes(m)),
  'reflection describes Execute, BatchExecute and Paginate');

// The service's descriptors (with their imports), straight from the server.
const descriptor = await reflection.getDescriptorBySymbol('gitlab.gateway.v1.Gateway');
const { Gateway } = descriptor.getPackageObject(loaderOptions).gitlab.gateway.v1;
const client = new Gateway(target, grpc.credentials.createInsecure());
try {
  const request = JSON.parse(requestJson);
  const response = await new Promise((resolve, reject) =>
    client.Execute(request, callOptions(), (e, r) => (e ? reject(e) : resolve(r))));
  console.log(`Execute ${request.path}: HTTP ${response.status_code} ${response.text}`);
  if (process.argv[2] === undefined) {
    check(response.id === 'reflected', 'Execute echoes the request id');
    check(response.status_code === 200, 'Execute from JSON answers 200');
    check(Number.isInteger(JSON.parse(response.text).id), "Execute returns the project's JSON");
  }
} finally {
  client.close();
}

// Listed, though libgrpc++'s built-in health service registers no
// descriptors for reflection to describe; examples/python/health_check.py checks health.
check(services.includes('grpc.health.v1.Health'), 'reflection lists grpc.health.v1.Health');
console.log('node reflection example: all checks passed');
