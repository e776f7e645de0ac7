// Type-checked (tsc --noEmit) against the packed package's index.d.ts.
import {
  CallerAuthenticationError, Client, GitlabHttpError, projectPath, type Response,
} from 'gitlab-gateway-client';

async function main(): Promise<number> {
  const gw = new Client(undefined, { privateToken: 't', timeoutMs: 1000 });
  const r: Response = await gw.get(projectPath('group/demo'), { query: { per_page: 5 } });
  const status: number = r.statusCode;
  for await (const page of gw.paginate('/projects', { pages: true, maxPages: 1 })) {
    const next: number = page.page ? page.page.nextPage : 0;
    void next;
  }
  for await (const item of gw.batch([{ path: '/user', id: 'u' }])) void item.error;
  try {
    await gw.post('/projects', { json: { name: 'x' }, credentialName: 'future-field' });
  } catch (e) {
    if (e instanceof GitlabHttpError) return e.responseCode ?? 0;
    if (e instanceof CallerAuthenticationError) return e.reason.length;
  }
  gw.close();
  const secure = new Client('gateway:443', {
    caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/c.key', callerToken: null, tls: true,
  });
  secure.close();
  return status;
}
void main;

// Download and Upload.
import { type Download } from 'gitlab-gateway-client';
import { createReadStream, createWriteStream } from 'node:fs';

async function transfers(gw: Client): Promise<number> {
  const body: Download = await gw.download(projectPath(42, 'repository/files/big.bin/raw'),
    { headers: { Range: 'bytes=10-' } });
  const type: string | undefined = body.header('content-type');
  let size = 0;
  for await (const chunk of body) size += (chunk as Buffer).length;
  const head: Response = await gw.downloadTo('/raw', 'out.bin');
  await gw.downloadTo('/raw', createWriteStream('out2.bin'));
  const path = projectPath(42, 'packages/generic/t/1/t.bin');
  const r: Response = await gw.upload(path, createReadStream('out.bin'),
    { contentType: type ?? 'application/octet-stream', method: 'POST' });
  await gw.upload(path, Buffer.from('x'), { size: 1, chunkSize: 1024 });
  async function* pieces(): AsyncGenerator<Uint8Array> { yield new Uint8Array(3); }
  await gw.upload(path, pieces());
  return size + head.statusCode + r.statusCode + body.statusCode;
}
void transfers;
