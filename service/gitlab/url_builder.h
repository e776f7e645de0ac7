#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_URL_BUILDER_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_URL_BUILDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "google/protobuf/repeated_field.h"

namespace gitlab_gateway::gitlab {

// Builds the upstream URLs. Pure functions; any thread.
//
//   absl::StatusOr<BaseUrl> base = ParseBaseUrl("https://host/gitlab/");
//   BuildRestUrl(*base, "/projects/group%2Fdemo", query)
//     == "https://host/gitlab/api/v4/projects/group%2Fdemo?per_page=100"

// The configured GitLab root URL, parsed once at startup.
struct BaseUrl {
  std::string scheme;  // "http" or "https", lowercase
  std::string host;    // lowercase; IPv6 literals keep brackets: "[::1]"
  int port = 0;        // explicit, or 80/443 by scheme
  std::string prefix;  // "" or "/gitlab": no trailing slash
  std::string origin;  // "https://host" or "http://host:8080"; default port
                       // omitted even when written
};

// Parses the configured GitLab URL: "https://gitlab.com",
// "http://127.0.0.1:8080", "https://host/gitlab/", "http://[::1]:8080".
// Refuses other schemes, userinfo, query, fragment, bad ports, whitespace,
// dot segments, and a URL that already ends in /api/v4.
absl::StatusOr<BaseUrl> ParseBaseUrl(absl::string_view url);

// Percent-encodes every byte but RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~):
// "+" -> "%2B", " " -> "%20", UTF-8 bytes one by one, uppercase hex.
std::string PercentEncode(absl::string_view s);

// "k=v&k2=v2": in order, repeated keys kept, keys and values encoded;
// "" when `query` is empty.
std::string BuildQuery(
    const google::protobuf::RepeatedPtrField<::gitlab::gateway::v1::Param>&
        query);

// origin + prefix + "/api/v4" + path + ("?" + BuildQuery(query) if any).
// `path` is copied byte for byte (GitLab needs %2F kept encoded); validate
// it first with PathProblem().
std::string BuildRestUrl(
    const BaseUrl& base, absl::string_view path,
    const google::protobuf::RepeatedPtrField<::gitlab::gateway::v1::Param>&
        query);

// origin + prefix + "/api/graphql".
std::string BuildGraphqlUrl(const BaseUrl& base);

// Validates a Link rel="next" URL from GitLab (keyset pagination) and returns
// it as the absolute URL to request, byte for byte as GitLab sent it. It must
// stay on `base`'s origin and under its API root ("<prefix>/api/v4/");
// otherwise an error naming the problem (never following another host).
absl::StatusOr<std::string> ResolveNextLink(const BaseUrl& base,
                                            absl::string_view link);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_URL_BUILDER_H_
