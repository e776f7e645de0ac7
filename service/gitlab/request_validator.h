#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_REQUEST_VALIDATOR_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_REQUEST_VALIDATOR_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/gitlab/field_violation.h"

namespace gitlab_gateway::gitlab {

// Checks a caller's Request before anything is sent upstream. Pure functions;
// any thread. Descriptions name the problem, never a secret value.
//
//   if (auto violation = ValidateRequest(request)) {
//     // INVALID_ARGUMENT: violation->field + ": " + violation->description
//   }

inline constexpr size_t kMaxPathBytes = 8 * 1024;
inline constexpr int kMaxQueryParams = 1000;
// Every byte of query keys and values, before encoding.
inline constexpr size_t kMaxQueryBytes = 64 * 1024;
// GitLab needs a handful of headers; these bound the header list the engine
// builds (and what a caller can make it copy).
inline constexpr int kMaxHeaders = 100;
// Names and values, plus ": " and CRLF per header.
inline constexpr size_t kMaxHeaderBytes = 64 * 1024;
inline constexpr size_t kMaxSudoBytes = 255;

// "" -> "GET"; GET, HEAD, POST, PUT, PATCH, DELETE in any case -> uppercase;
// anything else -> InvalidArgument.
absl::StatusOr<std::string> NormalizeMethod(absl::string_view method);

// Why `path` may not be sent under /api/v4, or nullopt when it may. Refuses:
// empty, over kMaxPathBytes, control characters or spaces, "?" or "#", not
// starting with "/", starting with "//", a scheme, invalid percent escapes,
// "%00", and any segment that decodes to "." or ".." where "/", "\", %2F and
// %5C all count as separators (GitLab decodes %2F inside ids).
std::optional<std::string> PathProblem(absl::string_view path);

// The HTTP method a request will use: NormalizeMethod(method), except that
// API_GRAPHQL means POST (empty method) and refuses any other.
absl::StatusOr<std::string> RequestMethod(
    const ::gitlab::gateway::v1::Request& request);

// The first problem of `request`, or nullopt when it may be sent. Checks, in
// order: method, api, path, query, headers, body, credentials, sudo, timeout,
// max_attempts.
// `field` is the proto path ("query[3].key", "credentials.private_token");
// `reason` one of INVALID_METHOD, INVALID_API, INVALID_PATH, INVALID_QUERY,
// INVALID_HEADER, INVALID_BODY, INVALID_CREDENTIALS, INVALID_SUDO,
// INVALID_TIMEOUT, INVALID_MAX_ATTEMPTS.
std::optional<FieldViolation> ValidateRequest(
    const ::gitlab::gateway::v1::Request& request);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_REQUEST_VALIDATOR_H_
