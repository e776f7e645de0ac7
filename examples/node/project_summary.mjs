// Summarises one GitLab project through gitlab-gateway with the Node client
// (client/node). Works against any GitLab the gateway fronts.
//
//   (cd client/node && npm ci && npm pack)     # gitlab-gateway-client-*.tgz
//   npm install ./client/node/gitlab-gateway-client-0.1.0.tgz
//   GITLAB_GATEWAY_TARGET=localhost:50051 GITLAB_PROJECT=group/sub/project \
//     node project_summary.mjs
//
// GITLAB_PROJECT is a project id or its full path (encoded with %2F here).
// A gateway with TLS and caller identity needs no code here: the client
// reads GITLAB_GATEWAY_CA_FILE (TLS), GITLAB_GATEWAY_CERT_FILE/_KEY_FILE
// (mTLS) and GITLAB_GATEWAY_CALLER_TOKEN (the caller's bearer) itself.
// Prints the project, its first open issues (Paginate), and its recent merge
// requests and branches fetched together (BatchExecute). Exits 1 with
// GitLab's message when the project is missing or the token is refused.
import gg from 'gitlab-gateway-client';

const MAX_ISSUES = 20;

async function main() {
  const project = process.env.GITLAB_PROJECT;
  if (!project) {
    console.error('set GITLAB_PROJECT (an id or group/project)');
    return 2;
  }
  const gw = new gg.Client(); // GITLAB_GATEWAY_TARGET, else localhost:50051
  try {
    let info;
    try {
      info = await gw.getJson(gg.projectPath(project));
    } catch (error) {
      if (error instanceof gg.GitlabNotFoundError) {
        console.error(`${project}: not found (${error.errorMessage})`);
        return 1;
      }
      if (error instanceof gg.GitlabAuthenticationError) {
        console.error(`the gateway's token was refused: ${error.errorMessage}`);
        return 1;
      }
      if (error instanceof gg.CallerAuthenticationError) {
        console.error(`the gateway does not know this caller: ${error.message}`);
        return 1;
      }
      throw error;
    }
    console.log(`project ${info.id}: ${info.path_with_namespace ?? '?'}`);

    let count = 0;
    for await (const issue of gw.paginate(gg.projectPath(info.id, 'issues'),
      { query: { state: 'opened', per_page: 20 }, maxItems: MAX_ISSUES })) {
      count += 1;
      console.log(`  issue #${issue.iid}: ${issue.title ?? ''}`);
    }
    console.log(`${count} open issue(s) shown (at most ${MAX_ISSUES})`);

    // Two lists on one stream; one failing (e.g. merge requests disabled)
    // does not fail the other.
    const wanted = {
      merge_requests: { per_page: 5, order_by: 'updated_at' },
      'repository/branches': { per_page: 5 },
    };
    const requests = Object.entries(wanted).map(([name, query]) =>
      ({ id: name, path: gg.projectPath(info.id, name), query }));
    for await (const response of gw.batch(requests)) {
      try {
        gg.raiseForError(response);
        console.log(`${response.id}: ${(gg.jsonBody(response) ?? []).length} shown`);
      } catch (error) {
        console.log(`${response.id}: unavailable (${error.message})`);
      }
    }
    return 0;
  } finally {
    gw.close();
  }
}

process.exitCode = await main();
