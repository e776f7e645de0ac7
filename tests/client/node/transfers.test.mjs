// gitlab-gateway-client's download/downloadTo/upload, installed from the
// `npm pack` tarball, against a live gateway + the demo GitLab
// (tests/client/demo_gitlab.h: the raw file big.bin, 3 MiB + 12345 bytes,
// byte i = i % 251, and the generic package registry that answers with the
// size and SHA-256 it received). Run by run_client_test.sh with node --test.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, test } from 'node:test';

import gg from 'gitlab-gateway-client';

const gw = new gg.Client(process.env.GITLAB_GATEWAY_TARGET,
  { timeoutMs: 20000, streamTimeoutMs: 60000 });
after(() => gw.close());

const BIG_SIZE = 3 * 1048576 + 12345;
const BIG_FILE = gg.projectPath(42, 'repository/files/big.bin/raw');
const MISSING_FILE = gg.projectPath(42, 'repository/files/missing.bin/raw');
const TRUNCATED_FILE = gg.projectPath(42, 'repository/files/truncated.bin/raw');
const PACKAGE = gg.projectPath(42, 'packages/generic/tool/1.0/tool.bin');

function bigBytes(size = BIG_SIZE) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return b;
}
const expected = bigBytes();

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gg-transfers-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('download streams the body byte-exact in chunks', async () => {
  const body = await gw.download(BIG_FILE);
  assert.ok(body instanceof gg.Download);
  assert.ok(body instanceof Readable);
  assert.equal(body.statusCode, 200);
  assert.equal(body.header('CONTENT-TYPE'), 'application/octet-stream');
  const chunks = [];
  for await (const chunk of body) chunks.push(chunk);
  assert.ok(chunks.length >= 4, `${chunks.length} chunks`);
  assert.ok(chunks.every((c) => c.length <= gg.CHUNK_SIZE));
  assert.ok(Buffer.concat(chunks).equals(expected));
});

test('a slow reader is fed with backpressure, not buffered whole', async () => {
  const body = await gw.download(BIG_FILE);
  let received = 0;
  let maxBuffered = 0;
  await new Promise((resolve, reject) => {
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk, _encoding, callback) {
        received += chunk.length;
        maxBuffered = Math.max(maxBuffered, body.readableLength);
        setTimeout(callback, 5);
      },
    });
    body.pipe(slow).on('finish', resolve).on('error', reject);
    body.on('error', reject);
  });
  assert.equal(received, BIG_SIZE);
  // The Readable holds at most its high-water mark plus one chunk.
  assert.ok(maxBuffered <= body.readableHighWaterMark + gg.CHUNK_SIZE, `${maxBuffered}`);
});

test('downloadTo writes a file, or a Writable', async () => {
  const file = path.join(tempDir(), 'big.bin');
  const head = await gw.downloadTo(BIG_FILE, file);
  assert.equal(head.statusCode, 200);
  assert.ok(fs.readFileSync(file).equals(expected));
  const parts = [];
  await gw.downloadTo(BIG_FILE, new Writable({
    write(chunk, _encoding, callback) { parts.push(chunk); callback(); },
  }));
  assert.ok(Buffer.concat(parts).equals(expected));
});

test('a download of a missing file rejects with GitlabNotFoundError', async () => {
  await assert.rejects(gw.download(MISSING_FILE), (e) => {
    assert.ok(e instanceof gg.GitlabNotFoundError);
    assert.equal(e.responseCode, 404);
    assert.equal(e.errorMessage, '404 File Not Found');
    assert.equal(e.codeName, 'NOT_FOUND');
    return true;
  });
  const file = path.join(tempDir(), 'missing.bin');
  await assert.rejects(gw.downloadTo(MISSING_FILE, file), gg.GitlabNotFoundError);
  assert.equal(fs.existsSync(file), false);
});

test('a transfer breaking mid-body errors, never ends short', async () => {
  // 2 MiB + 5 of 2 MiB + 6 bytes, then the demo GitLab closes.
  const body = await gw.download(TRUNCATED_FILE);
  assert.equal(body.statusCode, 200);
  await assert.rejects((async () => {
    for await (const chunk of body) void chunk;
  })(), (e) => e instanceof gg.GatewayError && e.codeName === 'UNAVAILABLE');
  const file = path.join(tempDir(), 'truncated.bin');
  await assert.rejects(gw.downloadTo(TRUNCATED_FILE, file), gg.GatewayError);
  assert.equal(fs.existsSync(file), false);
});

test('destroying a download early leaves the client usable', async () => {
  const body = await gw.download(BIG_FILE);
  for await (const chunk of body) {
    assert.ok(chunk.equals(expected.subarray(0, chunk.length)));
    break; // destroys the stream, which cancels the call
  }
  assert.equal((await gw.get('/projects/42')).statusCode, 200);
});

function assertArrived(response, size) {
  assert.equal(response.statusCode, 201);
  const echo = gg.jsonBody(response);
  assert.equal(echo.method, 'PUT');
  assert.equal(echo.size, size);
  assert.equal(echo.sha256, createHash('sha256').update(expected.subarray(0, size)).digest('hex'));
  assert.equal(echo.content_length, String(size));
  assert.equal(echo.transfer_encoding, '');
  return echo;
}

test('upload streams a file with its size', async () => {
  const file = path.join(tempDir(), 'tool.bin');
  fs.writeFileSync(file, expected);
  const response = await gw.upload(PACKAGE, fs.createReadStream(file),
    { contentType: 'application/octet-stream' });
  assert.equal(assertArrived(response, BIG_SIZE).content_type, 'application/octet-stream');
});

test('upload reads a Readable, an async iterable and a Buffer', async () => {
  let pulls = 0;
  const source = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      const at = pulls++ * 100000;
      this.push(at < BIG_SIZE ? expected.subarray(at, Math.min(at + 100000, BIG_SIZE)) : null);
    },
  });
  assertArrived(await gw.upload(PACKAGE, source, { size: BIG_SIZE }), BIG_SIZE);
  assert.ok(pulls > 30, `${pulls} reads`);

  async function* pieces() {
    for (let at = 0; at < BIG_SIZE; at += 700000) yield expected.subarray(at, at + 700000);
  }
  assertArrived(await gw.upload(PACKAGE, pieces(), { size: BIG_SIZE }), BIG_SIZE);
  assertArrived(await gw.upload(PACKAGE, expected.subarray(0, 5000)), 5000);
  // A Request without method is sent with PUT.
  assertArrived(await gw.upload(gg.makeRequest(PACKAGE), expected.subarray(0, 10)), 10);
});

test('upload contentType replaces the Content-Type of the headers', async () => {
  const plain = { 'Content-Type': 'text/plain' };
  for (const [request, options] of [
    [PACKAGE, { headers: { 'content-type': 'text/plain' } }],
    [PACKAGE, { headers: [['Content-Type', 'text/plain']] }],
    [gg.makeRequest(PACKAGE, { headers: plain }), {}],
  ]) {
    const response = await gw.upload(request, expected.subarray(0, 10),
      { ...options, contentType: 'application/x-tar' });
    assert.equal(assertArrived(response, 10).content_type, 'application/x-tar');
  }
  // Without contentType the headers' own is sent.
  const response = await gw.upload(PACKAGE, Buffer.from('x'), { headers: plain });
  assert.equal(gg.jsonBody(response).content_type, 'text/plain');
});

test('upload errors are typed', async () => {
  await assert.rejects(gw.upload(gg.projectPath(7, 'packages/generic/t/1/t.bin'), Buffer.from('x')),
    (e) => e instanceof gg.GitlabNotFoundError && e.responseCode === 404);
  // Unknown size: sent chunked, which the demo GitLab refuses with 411.
  await assert.rejects(gw.upload(PACKAGE, [Buffer.from('abc')]),
    (e) => e instanceof gg.GitlabHttpError && e.responseCode === 411);
  // Shorter than announced: refused by the gateway.
  await assert.rejects(gw.upload(PACKAGE, [Buffer.from('abc')], { size: 10 }),
    (e) => e instanceof gg.GatewayError && e.codeName === 'INVALID_ARGUMENT');
});

test('a failing source rejects with its own error', async () => {
  async function* failing() {
    yield Buffer.alloc(1000);
    throw new Error('disk gone');
  }
  await assert.rejects(gw.upload(PACKAGE, failing(), { size: 5000 }), /disk gone/);
  await assert.rejects(gw.upload(PACKAGE, ['text']), TypeError);
  await assert.rejects(gw.upload(PACKAGE, 'text'), TypeError);
  await assert.rejects(gw.upload(PACKAGE, Buffer.from('x'), { chunkSize: 0 }), RangeError);
});
