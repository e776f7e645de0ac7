#!/usr/bin/env python3
"""Builds service/gitlab/route_catalog.inc from GitLab's REST API documentation.

Run by hand when GitLab's API grows (the output is committed; the build does
not run this script):

  scripts/gen_route_catalog.py --doc-dir ~/src/gitlab/doc/api \
      > service/gitlab/route_catalog.inc

--doc-dir is doc/api of a checkout of gitlab-org/gitlab (or a mirror such as
gitlabhq/gitlabhq). The commit recorded in the output is that checkout's HEAD
(`git rev-parse HEAD`), or --commit when the directory is not a checkout.

What it extracts: every line of a Markdown file under --doc-dir (graphql/
excluded) that reads like an endpoint, `GET /projects/:id/issues/:issue_iid`
(GET, HEAD, POST, PUT, PATCH, DELETE; the leading "/" is optional, as in
`GET group/:id/-/packages/composer/packages`). The path is normalised:
  - a leading /api/v4 is dropped (the gateway's callers send paths below it);
  - the query (`?job=name`) and trailing slashes are dropped;
  - example URLs (`https://gitlab.example.com/...`) and paths that start
    with a parameter (`<route_prefix>/v2/...`) are skipped;
  - `{name}` and `<name>` placeholders become `:name`;
  - an optional suffix `archive[.format]` gives two templates, `archive` and
    `archive.:format` (a parameter with literal text before it);
  - `*name` (a wildcard that spans real slashes) is kept only as the last
    segment.
Templates with the same shape (same literals, params in the same places)
but different parameter names are one route at runtime; the first name in
sorted order of (most frequent, then alphabetical) wins so the output is
deterministic, and the others are listed in a comment.

Output: a C++ fragment, one string literal per template, sorted, with the
source commit and file count in a header comment. service/gitlab/
route_catalog.cc includes it.
"""

import argparse
import collections
import os
import re
import subprocess
import sys

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ENDPOINT = re.compile(
    r"^\s*(?:`)?(" + "|".join(METHODS) + r")\s+(/?[A-Za-z0-9_:{}<>*.$%~@+\-/\[\]]+)"
)
PARAM = re.compile(r":[a-z_][a-z0-9_]*")
SEGMENT_OK = re.compile(r"^[A-Za-z0-9_:.$~@+\-*]+$")
MAX_SEGMENTS = 24


def expand_optional(path):
    """`archive[.format]` documents both `archive` and `archive.:format`."""
    m = re.search(r"\[\.([a-z_][a-z0-9_]*)\]", path)
    if not m:
        return [re.sub(r"\[[^\]]*\]", "", path)]
    return (expand_optional(path[:m.start()] + path[m.end():]) +
            expand_optional(path[:m.start()] + ".:" + m.group(1) + path[m.end():]))


def normalise(path):
    """The template for a documented path (optional parts dropped), or None."""
    if re.match(r"/?https?\b", path):
        return None  # an example URL (https://gitlab.example.com/...), not a template
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = re.sub(r"\{([a-z_][a-z0-9_]*)\}", r":\1", path)
    path = re.sub(r"<([a-z_][a-z0-9_]*)>", r":\1", path)
    if not path.startswith("/"):
        path = "/" + path
    segments = [s for s in path.split("/") if s]
    if segments[:2] == ["api", "v4"]:
        segments = segments[2:]
    if not segments or len(segments) > MAX_SEGMENTS:
        return None
    if segments[0].startswith((":", "*")):
        # GitLab's routes start with a resource word; a leading parameter is a
        # page's shorthand (`<route_prefix>/v2/...`, `/:id/attestations`).
        return None
    for i, seg in enumerate(segments):
        if not SEGMENT_OK.match(seg):
            return None
        if "*" in seg:
            # Only a whole-segment wildcard at the end: it spans the rest.
            if not re.fullmatch(r"\*[a-z_][a-z0-9_]*", seg) or i != len(segments) - 1:
                return None
        elif ":" in seg:
            # Params are ":name", optionally with literal text around them
            # (":package_name$:sha", ":sha.json"); the literal bits must not
            # hold another ":".
            rest = PARAM.sub("", seg)
            if ":" in rest:
                return None
    return "/" + "/".join(segments)


def shape(template):
    """The route's runtime identity: parameter names erased."""
    segs = []
    for seg in template.strip("/").split("/"):
        if seg.startswith("*"):
            segs.append("*")
        else:
            segs.append(PARAM.sub(":", seg))
    return "/" + "/".join(segs)


def source_commit(doc_dir, override):
    if override:
        return override
    try:
        return subprocess.run(
            ["git", "-C", doc_dir, "rev-parse", "HEAD"],
            check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        sys.exit("gen_route_catalog: %s is not a git checkout; pass --commit" % doc_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--doc-dir", required=True, help="doc/api of a GitLab checkout")
    parser.add_argument("--commit", help="source commit to record (default: git HEAD)")
    parser.add_argument(
        "--file-commits",
        help="a file of '<path below doc-dir> <commit>' lines, for a doc-dir "
             "assembled from files read at different commits; each file's "
             "commit is recorded")
    parser.add_argument("--repo", default="gitlab-org/gitlab (mirror gitlabhq/gitlabhq)")
    args = parser.parse_args()

    commit = None if args.file_commits else source_commit(args.doc_dir, args.commit)
    counts = collections.Counter()
    files = []
    for root, dirs, names in os.walk(args.doc_dir):
        dirs[:] = sorted(d for d in dirs if d != "graphql")
        for name in sorted(names):
            if not name.endswith(".md"):
                continue
            found = False
            with open(os.path.join(root, name), encoding="utf-8") as f:
                for line in f:
                    m = ENDPOINT.match(line)
                    if not m:
                        continue
                    for variant in expand_optional(m.group(2).split("?", 1)[0]):
                        template = normalise(variant)
                        if template:
                            counts[template] += 1
                            found = True
            if found:
                files.append(os.path.relpath(os.path.join(root, name), args.doc_dir))

    by_shape = collections.defaultdict(list)
    for template, n in counts.items():
        by_shape[shape(template)].append((-n, template))
    chosen, aliases = [], []
    for variants in by_shape.values():
        variants.sort()
        chosen.append(variants[0][1])
        aliases.extend((v[1], variants[0][1]) for v in variants[1:])
    chosen.sort()
    aliases.sort()

    out = sys.stdout
    out.write("// Generated by scripts/gen_route_catalog.py; do not edit by hand.\n")
    if args.file_commits:
        out.write("// Source: %s doc/api, each file at the commit below\n" % args.repo)
    else:
        out.write("// Source: %s doc/api at commit %s\n" % (args.repo, commit))
    out.write("// %d templates from %d documentation files:\n" % (len(chosen), len(files)))
    per_file = {}
    if args.file_commits:
        with open(args.file_commits, encoding="utf-8") as f:
            per_file = dict(l.split() for l in f if l.strip())
        missing = [name for name in files if name not in per_file]
        if missing:
            sys.exit("gen_route_catalog: no commit for %s" % ", ".join(missing))
        for name in files:
            out.write("//   %s at %s\n" % (name, per_file[name]))
        files = []
    line = "//"
    for name in files:
        if len(line) + 1 + len(name) > 79:
            out.write(line + "\n")
            line = "//"
        line += " " + name
    if files:
        out.write(line + "\n")
    for alias, kept in aliases:
        out.write("// same route as %s: %s\n" % (kept, alias))
    for template in chosen:
        out.write('"%s",\n' % template)


if __name__ == "__main__":
    main()
