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
