package gateway

import (
	"net/url"
	"strings"
)

// EncodeID encodes a project or group path for a URL segment:
// "group/sub/demo" -> "group%2Fsub%2Fdemo" (GitLab needs the %2F).
func EncodeID(idOrPath string) string { return url.PathEscape(idOrPath) }

// ProjectPath("group/sub/demo", "issues") -> "/projects/group%2Fsub%2Fdemo/issues".
func ProjectPath(project string, rest ...string) string {
	return strings.Join(append([]string{"/projects", EncodeID(project)}, rest...), "/")
}

// GroupPath("a/b", "members") -> "/groups/a%2Fb/members".
func GroupPath(group string, rest ...string) string {
	return strings.Join(append([]string{"/groups", EncodeID(group)}, rest...), "/")
}
