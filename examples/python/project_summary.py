#!/usr/bin/python3
"""Summarises one GitLab project through gitlab-gateway, with the Python
client (client/python). Works against any GitLab the gateway fronts.

    /usr/bin/python3 -m pip install --no-build-isolation --no-index client/python
    GITLAB_GATEWAY_TARGET=localhost:50051 GITLAB_PROJECT=group/sub/project \\
        /usr/bin/python3 examples/python/project_summary.py

GITLAB_PROJECT is a project id or its full path (encoded here with %2F).
A gateway with TLS and caller identity needs no code here: the client reads
GITLAB_GATEWAY_CA_FILE (TLS), GITLAB_GATEWAY_CERT_FILE/_KEY_FILE (mTLS) and
GITLAB_GATEWAY_CALLER_TOKEN (the caller's bearer secret) itself.
Prints the project, its first open issues (Paginate), and its recent merge
requests and branches fetched together (BatchExecute). Exits 1 with
GitLab's message when the project is missing or the token is refused.
"""
import os
import sys

import gitlab_gateway as gg

MAX_ISSUES = 20


def main():
    project = os.environ.get("GITLAB_PROJECT", "")
    if not project:
        print("set GITLAB_PROJECT (an id or group/project)", file=sys.stderr)
        return 2
    with gg.Client() as gw:  # GITLAB_GATEWAY_TARGET, else localhost:50051
        try:
            info = gw.get_json(gg.project_path(project))
        except gg.GitlabNotFoundError as error:
            print(f"{project}: not found ({error.error_message})",
                  file=sys.stderr)
            return 1
        except gg.GitlabAuthenticationError as error:
            print(f"the gateway's token was refused: {error.error_message}",
                  file=sys.stderr)
            return 1
        except gg.CallerAuthenticationError as error:
            print(f"the gateway does not know this caller: {error}",
                  file=sys.stderr)
            return 1
        print(f"project {info['id']}: {info.get('path_with_namespace', '?')}")

        issues = gw.paginate(gg.project_path(info["id"], "issues"),
                             query={"state": "opened", "per_page": 20},
                             max_items=MAX_ISSUES)
        count = 0
        for issue in issues:
            count += 1
            print(f"  issue #{issue['iid']}: {issue.get('title', '')}")
        print(f"{count} open issue(s) shown (at most {MAX_ISSUES})")

        # Two lists fetched on one stream; an item's failure (e.g. merge
        # requests disabled: 403/404) does not fail the other.
        wanted = {"merge_requests": {"per_page": 5, "order_by": "updated_at"},
                  "repository/branches": {"per_page": 5}}
        requests = ({"id": name, "path": gg.project_path(info["id"], name),
                     "query": query} for name, query in wanted.items())
        for response in gw.batch(requests):
            try:
                gg.raise_for_error(response)
            except gg.GitlabError as error:
                print(f"{response.id}: unavailable ({error})")
                continue
            print(f"{response.id}: {len(gg.json_body(response) or [])} shown")
    return 0


if __name__ == "__main__":
    sys.exit(main())
