"""Helpers for GitLab paths: GitLab names projects and groups by id or by
their full path with every "/" sent as %2F (and files by %2F-encoded paths)."""
from urllib.parse import quote


def encode_id(id_or_path):
    """42 -> "42"; "group/sub/demo" -> "group%2Fsub%2Fdemo"."""
    return quote(str(id_or_path), safe="")


def project_path(project, *rest):
    """project_path("group/sub/demo", "issues") ->
    "/projects/group%2Fsub%2Fdemo/issues"."""
    return "/".join(["/projects", encode_id(project), *map(str, rest)])


def group_path(group, *rest):
    """group_path("group/sub", "members") -> "/groups/group%2Fsub/members"."""
    return "/".join(["/groups", encode_id(group), *map(str, rest)])
