#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_ERROR_BODY_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_ERROR_BODY_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace gitlab_gateway::gitlab {

// Longest ErrorBody::message, in bytes (cut at a character boundary).
inline constexpr size_t kMaxErrorMessageBytes = 1024;
// Larger bodies are not parsed as JSON; their start is the message.
inline constexpr size_t kMaxParsedErrorBodyBytes = size_t{1} << 20;

// What a GitLab error body says, whatever its shape. Plain value type.
struct ErrorBody {
  // Readable, single-line, valid UTF-8, at most kMaxErrorMessageBytes.
  std::string message;
  // (field, problem) pairs from a validation map, in field-name order:
  // {"message": {"name": ["has already been taken"]}} -> {"name", "has..."}.
  std::vector<std::pair<std::string, std::string>> field_violations;
  // The OAuth 2 error code ("invalid_token", "insufficient_scope") when the
  // body is an OAuth error; empty otherwise.
  std::string error_code;
};

// Parses an error body. Pure; any thread. Shapes understood:
//   {"message": "404 Project Not Found"}              -> that text
//   {"message": {"name": ["has already been taken"]}}  -> violations, and
//       message "name has already been taken; path is too long"
//   {"message": {"error": "...too many times..."}}     -> that text
//   {"message": ["a", "b"]}                            -> "a; b"
//   {"error": "invalid_token", "error_description": "Token is expired"}
//       -> error_code "invalid_token", message "invalid_token: Token is..."
//   {"error": "title is missing"}                      -> that text
//   {"errors": [{"message": "..."}]}                   -> GraphQL messages
//   plain text "Retry later"                           -> "Retry later"
//   HTML (proxy 502/503/504 pages)                     -> its <title>, else
//       "non-JSON body (N bytes)"; likewise for binary bodies
//   empty body                                         -> ""
// Invalid JSON is handled as text. Whitespace runs collapse to one space.
ErrorBody ParseErrorBody(absl::string_view body,
                         absl::string_view content_type);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_ERROR_BODY_H_
