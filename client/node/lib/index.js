// gitlab-gateway-client: GitLab's API through gitlab-gateway, from Node.
//
//   const gg = require('gitlab-gateway-client');
//   const gw = new gg.Client('localhost:50051');
//   const project = await gw.getJson(gg.projectPath('group/demo'));
//   for await (const issue of gw.paginate(gg.projectPath('group/demo', 'issues'))) {}
//   gw.close();
//
// Field names are the proto's in lowerCamelCase (statusCode, rateLimit).
// Options the helpers do not know are Request fields, so fields added to the
// proto work without a client change. Failed calls reject with the errors
// of ./errors.js.
'use strict';
const grpc = require('@grpc/grpc-js');
const { packageDefinition, types } = require('./protos');
const errors = require('./errors');
const transfers = require('./transfers');

const fs = require('node:fs');

const DEFAULT_TARGET = 'localhost:50051';

// An option's value, else $env when it is undefined; '' or null: unset.
function setting(value, env) {
  const v = value === undefined ? process.env[env] : value;
  return v || null;
}

// Channel credentials for the TLS options (readFileSync errors name the
// file), or null for plaintext.
function tlsCredentials({ tls, caFile, certFile, keyFile }) {
  if (tls === false) {
    const given = Object.entries({ caFile, certFile, keyFile }).find(([, v]) => v);
    if (given) throw new TypeError(`tls: false with ${given[0]}`);
    return null;
  }
  const ca = setting(caFile, 'GITLAB_GATEWAY_CA_FILE');
  const cert = setting(certFile, 'GITLAB_GATEWAY_CERT_FILE');
  const key = setting(keyFile, 'GITLAB_GATEWAY_KEY_FILE');
  if ((cert === null) !== (key === null)) {
    throw new TypeError('certFile and keyFile go together '
      + '(GITLAB_GATEWAY_CERT_FILE, GITLAB_GATEWAY_KEY_FILE)');
  }
  if (!tls && !ca && !cert) return null;
  return grpc.credentials.createSsl(ca ? readCa(ca) : null,
    key ? fs.readFileSync(key) : null, cert ? fs.readFileSync(cert) : null);
}

function readCa(file) {
  const pem = fs.readFileSync(file);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TypeError(`CA file ${file}: no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

// The caller token (option, else $GITLAB_GATEWAY_CALLER_TOKEN), trimmed, or
// ''. One with a character gRPC metadata cannot carry is refused naming the
// option and variable, never the value (grpc-js's own error would show it).
function callerTokenSetting(option) {
  const token = String(setting(option, 'GITLAB_GATEWAY_CALLER_TOKEN') ?? '').trim();
  if (!/^[\x21-\x7e]*$/.test(token)) {
    throw new TypeError('the caller token (callerToken or GITLAB_GATEWAY_CALLER_TOKEN) '
      + 'may hold only visible ASCII characters (0x21-0x7E)');
  }
  return token;
}

function pairs(mappingOrPairs) {
  if (mappingOrPairs == null) return [];
  const entries = Array.isArray(mappingOrPairs) ? mappingOrPairs
    : Object.entries(mappingOrPairs);
  const out = [];
  for (const [key, value] of entries) {
    for (const v of Array.isArray(value) ? value : [value]) out.push([String(key), String(v)]);
  }
  return out;
}

function duration(ms) {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

// A gitlab.gateway.v1.Request object from a path and options: method, query
// and headers (object, arrays repeat a key, or [key, value] pairs), one of
// json (any value, sent as text) / text / content (Buffer), timeoutMs,
// credentials ({privateToken} | {oauthToken} | {jobToken}), sudo, api, id,
// and any other Request field by its camelCase name.
function makeRequest(path = '', options = {}) {
  const { method = '', query, headers, json, text, content, timeoutMs, ...fields } = options;
  // grpc-js would drop an unknown key silently; a misspelt field fails here.
  const known = types().lookupType('gitlab.gateway.v1.Request').fields;
  for (const key of Object.keys(fields)) {
    if (!(key in known)) throw new TypeError(`unknown gitlab.gateway.v1.Request field "${key}"`);
  }
  const request = { ...fields, path, method: method.toUpperCase() };
  request.query = pairs(query).map(([key, value]) => ({ key, value }));
  request.headers = pairs(headers).map(([name, value]) => ({ name, value }));
  const bodies = [json, text, content].filter((b) => b !== undefined);
  if (bodies.length > 1) throw new TypeError('give at most one of json, text, content');
  if (json !== undefined) request.text = JSON.stringify(json);
  else if (text !== undefined) request.text = text;
  else if (content !== undefined) request.content = Buffer.from(content);
  if (timeoutMs !== undefined) request.timeout = duration(timeoutMs);
  return request;
}

// The response's body parsed as JSON (null when empty).
function jsonBody(response) {
  return response.text ? JSON.parse(response.text) : null;
}

// Throws the error of a failed BatchExecute item; else returns it.
function raiseForError(response) {
  if (response.error && response.error.code) throw errors.errorFromStatus(response.error);
  return response;
}

const encodeId = (idOrPath) => encodeURIComponent(String(idOrPath));
// projectPath('group/sub/demo', 'issues') -> '/projects/group%2Fsub%2Fdemo/issues'
const projectPath = (project, ...rest) => ['/projects', encodeId(project), ...rest].join('/');
const groupPath = (group, ...rest) => ['/groups', encodeId(group), ...rest].join('/');

class Client {
  // target: 'host:port' (default $GITLAB_GATEWAY_TARGET or localhost:50051).
  // options: the gateway's TLS and caller identity, as gitlab-gateway-cli's,
  // each from its environment variable when undefined ('' or null: off):
  // caFile ($GITLAB_GATEWAY_CA_FILE: TLS verified by these CAs), certFile +
  // keyFile ($GITLAB_GATEWAY_CERT_FILE/_KEY_FILE: mTLS), tls (true: TLS
  // with the system's CAs, false: plaintext whatever the environment says),
  // callerToken ($GITLAB_GATEWAY_CALLER_TOKEN: the caller's bearer secret,
  // sent as `authorization: Bearer <secret>` with every call; never
  // logged). channelCredentials (grpc.credentials.createSsl(...)) replaces
  // the TLS options; metadata (object of headers sent with every call),
  // privateToken | oauthToken | jobToken (the GitLab token of every request
  // that sets none), timeoutMs (each Execute, 60 s), streamTimeoutMs (batch
  // and paginate, none), channelOptions.
  constructor(target, options = {}) {
    this.target = target || process.env.GITLAB_GATEWAY_TARGET || DEFAULT_TARGET;
    // Every check before the channel exists: a refusal leaves nothing open.
    // Not enumerable: console.log(client) must not print the bearer.
    Object.defineProperty(this, 'metadata', { value: new grpc.Metadata(), writable: true });
    for (const [k, v] of Object.entries(options.metadata ?? {})) {
      try {
        this.metadata.set(k, v);
      } catch {
        // grpc-js's message shows the value, maybe a secret.
        throw new TypeError(`metadata "${k}": a key or value gRPC metadata cannot carry`);
      }
    }
    const hasAuthorization = this.metadata.get('authorization').length > 0;
    if (options.callerToken && hasAuthorization) {
      throw new TypeError('give callerToken or an authorization metadata entry, not both');
    }
    if (!hasAuthorization) {
      const callerToken = callerTokenSetting(options.callerToken);
      if (callerToken) this.metadata.set('authorization', `Bearer ${callerToken}`);
    }
    const tokens = ['privateToken', 'oauthToken', 'jobToken']
      .filter((k) => options[k] !== undefined);
    if (tokens.length > 1) throw new TypeError('give at most one of privateToken, oauthToken, jobToken');
    this.credentials = tokens.length ? { [tokens[0]]: options[tokens[0]] } : null;
    let credentials = options.channelCredentials;
    if (credentials) {
      if (options.caFile || options.certFile || options.keyFile || options.tls != null) {
        throw new TypeError('give either channelCredentials or caFile/certFile/keyFile/tls');
      }
    } else {
      credentials = tlsCredentials(options);
    }
    const loaded = grpc.loadPackageDefinition(packageDefinition());
    const { Gateway } = loaded.gitlab.gateway.v1;
    this.stub = new Gateway(this.target,
      credentials ?? grpc.credentials.createInsecure(),
      options.channelOptions ?? {});
    this.timeoutMs = options.timeoutMs ?? 60000;
    this.streamTimeoutMs = options.streamTimeoutMs ?? null;
  }

  close() { this.stub.close(); }

  prepare(request) {
    const r = typeof request === 'string' ? makeRequest(request) : { ...request };
    if (this.credentials && !r.credentials) r.credentials = this.credentials;
    return r;
  }

  callOptions(timeoutMs) {
    return timeoutMs ? { deadline: new Date(Date.now() + timeoutMs) } : {};
  }

  // One call: resolves to the Response, rejects with a GitlabError.
  execute(requestOrPath, options = {}) {
    const request = this.prepare(typeof requestOrPath === 'string'
      ? makeRequest(requestOrPath, options) : requestOrPath);
    return new Promise((resolve, reject) => {
      this.stub.Execute(request, this.metadata, this.callOptions(this.timeoutMs),
        (error, response) => (error ? reject(errors.errorFromGrpc(error)) : resolve(response)));
    });
  }

  get(path, options = {}) { return this.execute(path, { ...options, method: 'GET' }); }
  head(path, options = {}) { return this.execute(path, { ...options, method: 'HEAD' }); }
  post(path, options = {}) { return this.execute(path, { ...options, method: 'POST' }); }
  put(path, options = {}) { return this.execute(path, { ...options, method: 'PUT' }); }
  patch(path, options = {}) { return this.execute(path, { ...options, method: 'PATCH' }); }
  delete(path, options = {}) { return this.execute(path, { ...options, method: 'DELETE' }); }
  async getJson(path, options = {}) { return jsonBody(await this.get(path, options)); }

  // POST to /api/graphql; resolves to the "data" member.
  async graphql(query, variables, options = {}) {
    const json = variables === undefined ? { query } : { query, variables };
    const response = await this.execute('', { ...options, method: 'POST', json, api: 'API_GRAPHQL' });
    return (jsonBody(response) ?? {}).data;
  }

  // Requests (objects for makeRequest: {path, ...options}, from an iterable
  // or async iterable) are written as they come, with backpressure;
  // Responses are yielded in completion order, matched by id. A failed item
  // has `error` set (raiseForError), or throws with {raiseErrors: true}.
  async *batch(requests, { raiseErrors = false } = {}) {
    const call = this.stub.BatchExecute(this.metadata, this.callOptions(this.streamTimeoutMs));
    let writeError = null;
    const writer = (async () => {
      try {
        for await (const item of requests) {
          const { path = '', ...options } = item;
          const request = this.prepare(makeRequest(path, options));
          if (!call.write(request)) await new Promise((r) => call.once('drain', r));
        }
        call.end();
      } catch (error) {
        writeError = error;
        call.cancel();
      }
    })();
    try {
      for await (const response of call) {
        yield raiseErrors ? raiseForError(response) : response;
      }
    } catch (error) {
      if (writeError) throw writeError;
      throw error.code !== undefined && error.metadata ? errors.errorFromGrpc(error) : error;
    } finally {
      call.cancel();
      await writer;
    }
    if (writeError) throw writeError;
  }

  // Every page of a GitLab list, in order: the items (JSON array elements),
  // or each page's Response with {pages: true}. maxPages/maxItems: 0 = none.
  async *paginate(requestOrPath, options = {}) {
    const { pages = false, maxPages = 0, maxItems = 0, ...rest } = options;
    const request = this.prepare(typeof requestOrPath === 'string'
      ? makeRequest(requestOrPath, { ...rest, method: 'GET' }) : requestOrPath);
    const call = this.stub.Paginate({ request, maxPages, maxItems }, this.metadata,
      this.callOptions(this.streamTimeoutMs));
    try {
      for await (const response of call) {
        if (pages) yield response;
        else yield* (jsonBody(response) ?? []);
      }
    } catch (error) {
      throw error.code !== undefined && error.metadata ? errors.errorFromGrpc(error) : error;
    } finally {
      call.cancel();
    }
  }

  // Streams one answer's body, of any size (README: Large bodies): resolves
  // to a Download once the head arrived (statusCode, headers, header(name),
  // head), a Readable of the body's Buffers; rejects like execute for
  // GitLab's non-2xx. Options as execute's (e.g. headers: {Range:
  // 'bytes=1000-'} to resume). Bounded by streamTimeoutMs.
  download(requestOrPath, options = {}) {
    const request = this.prepare(typeof requestOrPath === 'string'
      ? makeRequest(requestOrPath, { method: 'GET', ...options }) : requestOrPath);
    return transfers.openDownload(this.stub.Download(request, this.metadata,
      this.callOptions(this.streamTimeoutMs)));
  }

  // download() piped into a file name (created once the head arrived,
  // removed again when the transfer fails, so a file that exists is
  // complete) or a Writable (ended at the end); resolves to the head.
  async downloadTo(requestOrPath, destination, options = {}) {
    return transfers.writeDownload(await this.download(requestOrPath, options), destination);
  }

  // Streams a request body of any size with PUT (default) or POST; resolves
  // to the Response as execute does, rejects with a GitlabError (or the
  // body's own error). body: a Buffer/Uint8Array, a Readable (e.g.
  // fs.createReadStream(file)) or an (async) iterable of Buffers, read with
  // backpressure in pieces of at most chunkSize (1 MiB). size: the body's
  // length, sent as Content-Length (another length fails the upload); known
  // for Buffers and fs.ReadStreams of a whole file, else sent chunked.
  // contentType: the Content-Type header (replacing one of the headers or
  // the request). Never retried.
  upload(requestOrPath, body, options = {}) {
    const { contentType, size, chunkSize, ...rest } = options;
    let request;
    if (typeof requestOrPath === 'string') {
      request = makeRequest(requestOrPath, { method: 'PUT', ...rest });
    } else {
      request = { ...requestOrPath };
      if (!request.method) request.method = String(rest.method ?? 'PUT').toUpperCase();
    }
    if (contentType !== undefined) {
      // Replaces a Content-Type of the headers: GitLab gets one.
      request.headers = [...(request.headers ?? [])
        .filter((h) => String(h.name).toLowerCase() !== 'content-type'),
      { name: 'Content-Type', value: contentType }];
    }
    return transfers.sendUpload(
      (callback) => this.stub.Upload(this.metadata, this.callOptions(this.streamTimeoutMs), callback),
      this.prepare(request), body,
      { size: size ?? transfers.bodySize(body), chunkSize: chunkSize ?? transfers.CHUNK_SIZE });
  }
}

module.exports = {
  Client, makeRequest, jsonBody, raiseForError, encodeId, projectPath, groupPath,
  Download: transfers.Download, CHUNK_SIZE: transfers.CHUNK_SIZE, ...errors,
};
