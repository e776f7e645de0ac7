#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_RESPONSE_BODY_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_RESPONSE_BODY_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "gitlab/gateway/v1/gateway.pb.h"

namespace gitlab_gateway::gitlab {

// How a GitLab response body is placed in Response.text or Response.content.
// Pure functions; any thread.

// True when `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
// sequences. NUL is valid. ASCII runs are checked eight bytes at a time.
bool IsValidUtf8(absl::string_view s);

// `s` as valid UTF-8 of at most `max_bytes` bytes: each invalid byte becomes
// U+FFFD and the cut never splits a character. For proto3 `string` fields
// and status messages built from upstream bytes.
std::string ToValidUtf8(absl::string_view s,
                        size_t max_bytes = std::numeric_limits<size_t>::max());

// True when `body` may go to Response.text. Validity is the hard rule (proto3
// strings must be UTF-8): a body that is not valid UTF-8 is never textual,
// whatever its type says. A valid body is textual when its media type is
// textual (text/*, JSON, +json, XML, +xml, JavaScript, form-urlencoded,
// YAML, GraphQL...), absent, application/octet-stream or unknown; it is not
// textual when the type declares binary media (image/* except SVG, audio/*,
// video/*, font/*, archives, PDF...).
//
//   IsTextual("application/json; charset=utf-8", R"({"id":1})")  // true
//   IsTextual("", "\x89PNG\r\n")                                 // false
bool IsTextual(absl::string_view content_type, absl::string_view body);

// Sets response->text or response->content per IsTextual; an empty body sets
// neither.
void SetBody(absl::string_view content_type, std::string body,
             ::gitlab::gateway::v1::Response* response);

// Elements of a top-level JSON array ("[{...}, {...}]" -> 2); nullopt when
// the body is not a JSON array. A shallow scan: no allocation, no full parse.
std::optional<int64_t> CountJsonArrayItems(absl::string_view body);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_RESPONSE_BODY_H_
