#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_ROUTE_TEMPLATE_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_ROUTE_TEMPLATE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace gitlab_gateway::gitlab {

// Segments kept in a route template; longer paths end in "/...".
inline constexpr size_t kMaxRouteSegments = 8;

// The metrics label for a REST path (below /api/v4): the GitLab template it
// matches in RouteCatalog::Documented() (GitLab's documented endpoints),
// else GenericRouteTemplate(path). Cardinality stays bounded whatever
// callers send: catalog templates plus generic labels. Pure; any thread.
//
//   "/projects/group%2Fdemo/issues/12/notes" ->
//   "/projects/:id/issues/:issue_iid/notes"            (catalog)
//   "/x-evil-random" -> "/:id"                          (generic)
std::string RouteTemplate(absl::string_view path);

// The fallback for paths the catalog does not know: segments in a fixed
// vocabulary of GitLab resource words are kept, every other segment becomes
// a placeholder. Pure; any thread.
//
//   "/projects/group%2Fdemo/issues/12/notes" ->
//   "/projects/:id/issues/:iid/notes"
//   "/projects/7/repository/files/a%2Fb.c/raw"
//                               ->
//                               "/projects/:id/repository/files/:file_path/raw"
//   "/users/42" -> "/users/:id"      "/x-evil-random" -> "/:id"    "" -> "/"
//
// Placeholders: ":iid" after projects/:id or groups/:id followed by issues,
// merge_requests or epics; ":file_path", ":branch", ":tag_name", ":sha" after
// repository/files, /branches, /tags, /commits (those slots always hold a
// value, even one that looks like a resource word); ":id" otherwise. Empty
// segments are skipped and anything from "?" or "#" on is ignored.
std::string GenericRouteTemplate(absl::string_view path);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_ROUTE_TEMPLATE_H_
