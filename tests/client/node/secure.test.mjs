// gitlab-gateway-client (client/node) against a live gateway in TLS mode
// (with_live_gateway.sh --secure, or --mtls for client certificates), which
// lets only caller "example-app", known by its bearer secret or its
// certificate, spend the gateway's token. The client's defaults come from
// the environment the script sets, as a deployment's would.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inspect } from 'node:util';

import gg from 'gitlab-gateway-client';

const env = process.env;
const MODE = env.GG_TEST_GATEWAY_MODE;
const CA = env.GITLAB_GATEWAY_CA_FILE;
const OTHER_CA = env.GG_TEST_OTHER_CA_FILE;
const CERT = env.GG_TEST_CLIENT_CERT_FILE;
const KEY = env.GG_TEST_CLIENT_KEY_FILE;
const TOKEN = readFileSync(env.GG_TEST_CALLER_TOKEN_FILE, 'utf8').trim();
const WRONG = 'wrong-SECRET-5ca1ab1e';
const tls = { skip: MODE !== 'tls' && 'needs with_live_gateway.sh --secure' };
const mtls = { skip: MODE !== 'mtls' && 'needs with_live_gateway.sh --mtls' };

// A client, closed after `use` finished.
async function withClient(options, use) {
  const gw = new gg.Client(undefined, { timeoutMs: 20000, ...options });
  try {
    return await use(gw);
  } finally {
    gw.close();
  }
}

// Runs `use` with the client's environment variables unset.
async function withoutGatewayEnv(use) {
  const names = ['GITLAB_GATEWAY_CA_FILE', 'GITLAB_GATEWAY_CERT_FILE',
    'GITLAB_GATEWAY_KEY_FILE', 'GITLAB_GATEWAY_CALLER_TOKEN'];
  const saved = Object.fromEntries(names.map((n) => [n, env[n]]));
  for (const n of names) delete env[n];
  try {
    return await use();
  } finally {
    for (const n of names) if (saved[n] !== undefined) env[n] = saved[n];
  }
}

test('the environment alone makes a TLS call with the bearer', tls, async () => {
  const echo = await withClient({}, (gw) => gw.getJson('/echo'));
  // The gateway spent its own token for the known caller; the caller's
  // secret itself never goes to GitLab.
  assert.equal(echo.private_token, 'live-gateway-token');
  assert.ok(!JSON.stringify(echo).includes(TOKEN));
  // Nor does printing the client show it.
  await withClient({}, (gw) => {
    assert.ok(!inspect(gw, { depth: 8 }).includes(TOKEN));
    assert.ok(!JSON.stringify(Object.keys(gw)).includes('metadata'));
  });
});

test('explicit options work without the environment', tls, async () => {
  await withoutGatewayEnv(() => withClient({ caFile: CA, callerToken: TOKEN }, async (gw) => {
    assert.equal((await gw.getJson('/projects/42')).id, 42);
    const items = [];
    for await (const item of gw.paginate('/projects/42/issues', { maxItems: 3 })) items.push(item);
    assert.ok(items.length >= 3);
    const answers = [];
    for await (const r of gw.batch([{ id: 'a', path: '/projects/42' }])) answers.push(r);
    assert.equal(answers[0].statusCode, 200);
  }));
});

test('no bearer is a CallerAuthenticationError', tls, async () => {
  await withClient({ callerToken: '' }, async (gw) => {
    const error = await gw.get('/projects/42').catch((e) => e);
    assert.ok(error instanceof gg.CallerAuthenticationError, String(error));
    assert.ok(error instanceof gg.GatewayError);
    assert.equal(error.codeName, 'UNAUTHENTICATED');
    assert.equal(error.reason, 'CALLER_UNAUTHENTICATED');
    assert.equal(error.responseCode, null);
    // In a batch the item fails, with the same error.
    for await (const r of gw.batch([{ id: 'a', path: '/projects/42' }])) {
      assert.throws(() => gg.raiseForError(r), gg.CallerAuthenticationError);
    }
    await assert.rejects(async () => {
      for await (const item of gw.paginate('/projects/42/issues')) void item;
    }, gg.CallerAuthenticationError);
  });
});

test('a wrong bearer is refused without echoing it', tls, async () => {
  const error = await withClient({ callerToken: WRONG },
    (gw) => gw.get('/projects/42').catch((e) => e));
  assert.ok(error instanceof gg.CallerAuthenticationError, String(error));
  assert.equal(error.reason, 'CALLER_UNAUTHENTICATED');
  assert.ok(!error.message.includes(WRONG));
});

test('a client trusting another CA cannot connect', tls, async () => {
  const error = await withClient({ caFile: OTHER_CA, timeoutMs: 10000 },
    (gw) => gw.get('/projects/42').catch((e) => e));
  assert.ok(error instanceof gg.GatewayError, String(error));
  assert.equal(error.codeName, 'UNAVAILABLE');
});

test('plaintext to the TLS port cannot connect', tls, async () => {
  const error = await withClient({ tls: false, timeoutMs: 10000 },
    (gw) => gw.get('/projects/42').catch((e) => e));
  assert.ok(error instanceof gg.GatewayError, String(error));
  assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(error.codeName), error.codeName);
});

test('bad TLS options fail at construction', tls, () => {
  assert.throws(() => new gg.Client(undefined, { certFile: CERT }), /certFile and keyFile/);
  assert.throws(() => new gg.Client(undefined, { caFile: '/nonexistent/nope.pem' }), /nope\.pem/);
  assert.throws(() => new gg.Client(undefined, { tls: false, caFile: CA }), /tls: false with caFile/);
  assert.throws(() => new gg.Client(undefined,
    { callerToken: 'x', metadata: { authorization: 'y' } }), /not both/);
});

test('mTLS: the environment alone presents the client certificate', mtls, async () => {
  assert.equal((await withClient({}, (gw) => gw.getJson('/projects/42'))).id, 42);
});

test('mTLS: the certificate identifies the caller without a bearer', mtls, async () => {
  await withoutGatewayEnv(() => withClient({ caFile: CA, certFile: CERT, keyFile: KEY },
    async (gw) => assert.equal((await gw.getJson('/projects/42')).id, 42)));
});

test('mTLS: without a client certificate the handshake fails', mtls, async () => {
  const error = await withClient({ certFile: '', keyFile: '', timeoutMs: 10000 },
    (gw) => gw.get('/projects/42').catch((e) => e));
  assert.ok(error instanceof gg.GatewayError, String(error));
  assert.equal(error.codeName, 'UNAVAILABLE');
});
