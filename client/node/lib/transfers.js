// Download and Upload: bodies of any size, streamed (README: Large bodies).
// Used by Client.download/downloadTo/upload in ./index.js.
'use strict';
const fs = require('node:fs');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const errors = require('./errors');

const CHUNK_SIZE = 1 << 20; // 1 MiB: the gateway's own chunk size

function mapError(error) {
  return error && error.code !== undefined && error.metadata ? errors.errorFromGrpc(error) : error;
}

// An open Download whose head arrived: a Readable of the body's Buffers (at
// most 1 MiB each), read with backpressure (a slow reader pauses the
// transfer). A transfer failing mid-body destroys the stream with the
// GitlabError (never a short 'end'); destroy() cancels the rest.
class Download extends Readable {
  constructor(call, messages, head) {
    super();
    this.head = head;
    this.call = call;
    this.messages = messages;
    this.wanted = false;
    this.pumping = false;
  }

  get statusCode() { return this.head.statusCode; }
  get headers() { return this.head.headers; }

  // The first value of header `name` (case-insensitive), or undefined.
  header(name) {
    const lower = name.toLowerCase();
    return this.head.headers.find((h) => h.name.toLowerCase() === lower)?.value;
  }

  _read() {
    this.wanted = true;
    if (!this.pumping) this.pump();
  }

  async pump() {
    this.pumping = true;
    try {
      while (this.wanted && !this.destroyed) {
        const { value, done } = await this.messages.next();
        if (done) {
          this.push(null);
          return;
        }
        const data = value.data;
        if (!data || data.length === 0) continue;
        // _read may run inside push: it sets `wanted` again.
        this.wanted = false;
        if (this.push(data)) this.wanted = true;
      }
    } catch (error) {
      this.destroy(mapError(error));
    } finally {
      this.pumping = false;
    }
  }

  _destroy(error, callback) {
    this.call.cancel();
    callback(error);
  }
}

// Starts a Download call and resolves once its head arrived.
async function openDownload(call) {
  const messages = call[Symbol.asyncIterator]();
  let first;
  try {
    first = await messages.next();
  } catch (error) {
    call.cancel();
    throw mapError(error);
  }
  if (first.done || !first.value.head) {
    call.cancel();
    throw new Error('gitlab-gateway: Download did not start with a head');
  }
  return new Download(call, messages, first.value.head);
}

// Pipes a Download into a file name (created now, removed again when the
// transfer fails) or a Writable (ended at the end); resolves to the head.
async function writeDownload(body, destination) {
  if (typeof destination !== 'string') {
    await pipeline(body, destination);
    return body.head;
  }
  try {
    await pipeline(body, fs.createWriteStream(destination));
  } catch (error) {
    await fs.promises.rm(destination, { force: true });
    throw error;
  }
  return body.head;
}

// The body's length when known without reading it: Uint8Arrays, and
// fs.ReadStreams of a whole regular file; else undefined (sent chunked).
function bodySize(body) {
  if (body instanceof Uint8Array) return body.length;
  if (body instanceof fs.ReadStream && typeof body.path === 'string' &&
      body.start === undefined && body.end === Infinity && body.bytesRead === 0) {
    try {
      const stat = fs.statSync(body.path);
      return stat.isFile() ? stat.size : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

// The body's pieces, at most chunkSize bytes each, read lazily from a
// Uint8Array, a Readable, or an (async) iterable of Uint8Arrays.
async function* pieces(body, chunkSize) {
  if (typeof body === 'string') {
    throw new TypeError('upload: body is a string; give a Buffer (e.g. Buffer.from(text))');
  }
  const source = body instanceof Uint8Array ? [body] : body;
  if (source == null || (typeof source[Symbol.asyncIterator] !== 'function' &&
      typeof source[Symbol.iterator] !== 'function')) {
    throw new TypeError('upload: body must be a Buffer/Uint8Array, a Readable or an (async) iterable of them');
  }
  for await (const piece of source) {
    if (!(piece instanceof Uint8Array)) {
      throw new TypeError('upload: the body yielded a ' +
        `${typeof piece === 'string' ? 'string (a stream with an encoding?)' : typeof piece}; yield Buffers`);
    }
    for (let at = 0; at < piece.length; at += chunkSize) {
      yield piece.subarray(at, at + chunkSize);
    }
  }
}

// Writes the first UploadChunk, then the body, with backpressure; resolves
// to the Response. `start(callback)` opens the call. A failed source
// cancels the call and rejects with the source's error.
function sendUpload(start, request, body, { size, chunkSize = CHUNK_SIZE } = {}) {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    return Promise.reject(new RangeError(`upload: chunkSize must be a positive integer, not ${chunkSize}`));
  }
  return new Promise((resolve, reject) => {
    let sourceError = null;
    let ended = false;
    let wake = null;
    const call = start((error, response) => {
      ended = true;
      if (wake) wake();
      if (sourceError) reject(sourceError);
      else if (error) reject(mapError(error));
      else resolve(response);
    });
    call.on('drain', () => { if (wake) wake(); });
    const first = { request };
    if (size !== undefined) first.size = size;
    const write = async (message) => {
      if (!call.write(message)) {
        await new Promise((r) => { wake = r; });
        wake = null;
      }
    };
    (async () => {
      try {
        await write(first);
        for await (const data of pieces(body, chunkSize)) {
          if (ended) return; // the answer came early (an error): stop reading
          await write({ data });
        }
        if (!ended) call.end();
      } catch (error) {
        sourceError = error;
        call.cancel();
      }
    })();
  });
}

module.exports = { CHUNK_SIZE, Download, openDownload, writeDownload, bodySize, sendUpload };
