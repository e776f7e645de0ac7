// gitlab-gateway-client (client/node), installed from its `npm pack`
// tarball into a consumer project, against a live gateway + the demo GitLab
// (tests/client/demo_gitlab.h). Run by run_client_test.sh with node --test.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import gg from 'gitlab-gateway-client';

const gw = new gg.Client(process.env.GITLAB_GATEWAY_TARGET,
  { timeoutMs: 20000, streamTimeoutMs: 60000 });
after(() => gw.close());

test('execute returns the response', async () => {
  const response = await gw.get('/projects/42');
  assert.equal(response.statusCode, 200);
  assert.equal(gg.jsonBody(response).name, 'demo');
  assert.equal(response.attempts, 1);
});

test('projectPath encodes slashes', async () => {
  assert.equal(gg.projectPath('group/sub/demo'), '/projects/group%2Fsub%2Fdemo');
  assert.equal(gg.projectPath(42, 'issues'), '/projects/42/issues');
  assert.equal(gg.groupPath('a/b', 'members'), '/groups/a%2Fb/members');
  assert.equal((await gw.getJson(gg.projectPath('group/demo'))).id, 42);
});

test('query, headers, body, sudo and credentials reach GitLab', async () => {
  const echo = gg.jsonBody(await gw.post('/echo', {
    query: { 'labels[]': ['a', 'b'], x: 1 }, headers: { 'X-Demo': 'hi' },
    json: { k: 'v' }, sudo: 'alice', credentials: { jobToken: 'jt' },
  }));
  assert.equal(echo.method, 'POST');
  assert.equal(echo.query, 'labels%5B%5D=a&labels%5B%5D=b&x=1');
  assert.equal(echo.x_demo, 'hi');
  assert.equal(echo.body, '{"k":"v"}');
  assert.equal(echo.sudo, 'alice');
  assert.equal(echo.job_token, 'jt');
});

test('the client token applies unless the request sets one', async () => {
  const mine = new gg.Client(gw.target, { privateToken: 'mine' });
  try {
    assert.equal((await mine.getJson('/echo')).private_token, 'mine');
    const echo = await mine.getJson('/echo', { credentials: { oauthToken: 'o' } });
    assert.equal(echo.private_token, '');
    assert.equal(echo.authorization, 'Bearer o');
  } finally {
    mine.close();
  }
  assert.equal((await gw.getJson('/echo')).private_token, 'live-gateway-token');
});

test('not found is typed', async () => {
  const error = await gw.get('/projects/7').then(() => null, (e) => e);
  assert.ok(error instanceof gg.GitlabNotFoundError, String(error));
  assert.ok(error instanceof gg.GitlabHttpError);
  assert.ok(error instanceof gg.GitlabGetError);
  assert.equal(error.responseCode, 404);
  assert.match(error.errorMessage, /Project Not Found/);
  assert.equal(error.reason, 'GITLAB_NOT_FOUND');
  assert.equal(error.codeName, 'NOT_FOUND');
  assert.equal(error.details.resourceInfo[0].resourceType, 'projects');
});

test('authentication error', async () => {
  await assert.rejects(gw.get('/user', { credentials: { privateToken: 'revoked' } }),
    (e) => e instanceof gg.GitlabAuthenticationError && e.responseCode === 401);
});

test('rate limited carries retryAfter', async () => {
  const error = await gw.get('/rate_limited', { credentials: { privateToken: 'limited-node' } })
    .then(() => null, (e) => e);
  assert.ok(error instanceof gg.GitlabRateLimitError, String(error));
  assert.equal(error.responseCode, 429);
  assert.ok(error.retryAfter > 3000, `retryAfter ${error.retryAfter}`);
});

test('bad request names the field', async () => {
  const error = await gw.post('/projects', { json: { description: 'x' } }).then(() => null, (e) => e);
  assert.ok(error instanceof gg.GitlabBadRequestError, String(error));
  assert.deepEqual(error.fieldViolations, { name: "can't be blank" });
});

test('a gateway refusal is a GatewayError', async () => {
  const error = await gw.get('/projects/../admin').then(() => null, (e) => e);
  assert.ok(error instanceof gg.GatewayError, String(error));
  assert.equal(error.reason, 'INVALID_PATH');
  assert.equal(error.responseCode, null);
  assert.ok('path' in error.fieldViolations);
});

test('batch answers each item, failures as Response.error', async () => {
  const responses = {};
  for await (const r of gw.batch([
    { id: 'project', path: '/projects/42' },
    { id: 'missing', path: '/projects/7' },
    { id: 'created', path: '/projects', method: 'POST', json: { name: 'new' } },
  ])) responses[r.id] = r;
  assert.deepEqual(Object.keys(responses).sort(), ['created', 'missing', 'project']);
  assert.equal(responses.project.statusCode, 200);
  assert.equal(responses.created.statusCode, 201);
  assert.throws(() => gg.raiseForError(responses.missing), gg.GitlabNotFoundError);
  assert.equal(gg.raiseForError(responses.project), responses.project);
});

test('batch writes while answers arrive', async () => {
  // The second request is produced only after the first answer arrived: a
  // client that drained the input first would hang.
  let firstAnswered;
  const answered = new Promise((resolve) => { firstAnswered = resolve; });
  async function* requests() {
    yield { id: '1', path: '/projects/42' };
    await answered;
    yield { id: '2', path: '/projects/42' };
  }
  const ids = [];
  for await (const r of gw.batch(requests())) {
    ids.push(r.id);
    firstAnswered();
  }
  assert.deepEqual(ids, ['1', '2']);
});

test('batch input errors surface as themselves', async () => {
  async function* requests() {
    yield { id: '1', path: '/projects/42' };
    throw new RangeError("caller's bug");
  }
  await assert.rejects(async () => {
    for await (const r of gw.batch(requests())) void r;
  }, RangeError);
  // A misspelt Request field is refused, not dropped.
  assert.throws(() => gg.makeRequest('/x', { noSuchField: 1 }), /unknown gitlab.gateway.v1.Request field "noSuchField"/);
  await assert.rejects(async () => {
    for await (const r of gw.batch([{ path: '/x', noSuchField: 1 }])) void r;
  }, TypeError);
});

test('batch raiseErrors throws the item error', async () => {
  await assert.rejects(async () => {
    for await (const r of gw.batch([{ id: 'm', path: '/projects/7' }], { raiseErrors: true })) void r;
  }, gg.GitlabNotFoundError);
});

test('paginate yields items or pages', async () => {
  const items = [];
  for await (const issue of gw.paginate('/projects/42/issues')) items.push(issue.iid);
  assert.deepEqual(items, [1, 2, 3, 4, 5, 6]);
  const pages = [];
  for await (const p of gw.paginate(gg.projectPath('group/demo', 'issues'), { pages: true })) pages.push(p);
  assert.deepEqual(pages.map((p) => p.page.page), [1, 2, 3]);
  assert.equal(pages[0].page.total, 6);
  let n = 0;
  for await (const issue of gw.paginate('/projects/42/issues', { maxPages: 2 })) n += issue ? 1 : 0;
  assert.equal(n, 4);
});

test('paginate errors are typed', async () => {
  await assert.rejects(async () => {
    for await (const item of gw.paginate('/projects/7/issues')) void item;
  }, gg.GitlabNotFoundError);
});

test('an unreachable gateway is a GatewayError', async () => {
  const none = new gg.Client('127.0.0.1:1', { timeoutMs: 5000 });
  try {
    const error = await none.get('/projects/42').then(() => null, (e) => e);
    assert.ok(error instanceof gg.GatewayError, String(error));
    assert.equal(error.codeName, 'UNAVAILABLE');
  } finally {
    none.close();
  }
});

// The @grpc/grpc-js the package itself loads.
const require = createRequire(import.meta.url);
const grpc = require(require.resolve('@grpc/grpc-js',
  { paths: [path.dirname(require.resolve('gitlab-gateway-client'))] }));

const SECRET = 'SECRET-d0d0';

// new Client(...) throws a TypeError matching `want`, without the secret,
// before making channel credentials (so before any channel).
function assertRefused(want, options) {
  const made = [];
  const { createInsecure, createSsl } = grpc.credentials;
  grpc.credentials.createInsecure = (...a) => { made.push('insecure'); return createInsecure(...a); };
  grpc.credentials.createSsl = (...a) => { made.push('ssl'); return createSsl(...a); };
  try {
    assert.throws(() => new gg.Client('127.0.0.1:1', options), (e) => {
      assert.ok(e instanceof TypeError, String(e));
      assert.match(e.message, want);
      assert.ok(!e.message.includes(SECRET), e.message);
      return true;
    });
  } finally {
    Object.assign(grpc.credentials, { createInsecure, createSsl });
  }
  assert.deepEqual(made, []);
}

test('a caller token metadata cannot carry is refused without showing it', () => {
  const saved = process.env.GITLAB_GATEWAY_CALLER_TOKEN;
  delete process.env.GITLAB_GATEWAY_CALLER_TOKEN;
  try {
    for (const token of [`a\t${SECRET}`, `${SECRET}\nx`, `${SECRET}\u00e9`]) {
      assertRefused(/callerToken or GITLAB_GATEWAY_CALLER_TOKEN/, { callerToken: token });
    }
    process.env.GITLAB_GATEWAY_CALLER_TOKEN = `${SECRET}\tx`;
    assertRefused(/GITLAB_GATEWAY_CALLER_TOKEN/, {});
    delete process.env.GITLAB_GATEWAY_CALLER_TOKEN;
    // Surrounding whitespace (a file's newline) is trimmed, not refused.
    const trimmed = new gg.Client('127.0.0.1:1', { callerToken: ` ${SECRET}\n` });
    assert.deepEqual(trimmed.metadata.get('authorization'), [`Bearer ${SECRET}`]);
    trimmed.close();
  } finally {
    if (saved === undefined) delete process.env.GITLAB_GATEWAY_CALLER_TOKEN;
    else process.env.GITLAB_GATEWAY_CALLER_TOKEN = saved;
  }
});

test('conflicting options open no channel', () => {
  assertRefused(/not both/, { callerToken: SECRET, metadata: { authorization: 'Bearer x' } });
  assertRefused(/at most one/, { privateToken: 'a', jobToken: 'b' });
  assertRefused(/go together/, { certFile: '/c.pem' });
});

test('a CA file that is not PEM is refused naming it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gg-ca-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'not-a-ca.pem');
  fs.writeFileSync(file, 'not a certificate\n');
  assertRefused(new RegExp(`CA file ${file}`), { caFile: file });
});
