#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_STATUS_MAPPING_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_STATUS_MAPPING_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/rpc/status.pb.h"
#include "service/engine/status_reason.h"
#include "service/gitlab/field_violation.h"
#include "service/gitlab/response_headers.h"

namespace gitlab_gateway::gitlab {

// The one place that turns a GitLab HTTP answer, an engine failure or a
// gateway refusal into a grpc::Status. Pure functions; any thread.
//
// Every non-OK status carries a serialized google.rpc.Status (same code and
// message) in error_details, whose details hold exactly one
// google.rpc.ErrorInfo, plus:
//   GitLab answers: exactly one ::gitlab::gateway::v1::GitLabError, and
//   BadRequest (400, 422),
//     ResourceInfo (404) or RetryInfo (429, when a delay is known).
//   InvalidArgument: a BadRequest with the violation.

// The engine names a transport failure's ErrorInfo reason in an absl::Status
// payload (engine/status_reason.h); MapTransportError reads it back.
using engine::kReasonPayloadUrl;

// ErrorInfo.domain of errors the gateway itself raises.
inline constexpr absl::string_view kGatewayDomain = "gitlab-gateway";

// Estimated wire bytes (grpc-message percent-encoded plus
// grpc-status-details-bin base64-encoded) that MapGitLabAnswer keeps an
// error's trailers under. gRPC clients refuse trailers above 8 KiB by default
// (C-core grpc.max_metadata_size, grpc-java maxInboundMetadataSize) and would
// see RESOURCE_EXHAUSTED instead of GitLab's error. GitLabError.body gets the
// room the other details leave (usually several KiB).
inline constexpr size_t kMaxErrorTrailerBytes = 7 * 1024;

// Longest GitLabError.body, in bytes, when the trailer budget allows.
inline constexpr size_t kMaxErrorBodyBytes = 64 * 1024;

// 2xx, or 304 Not Modified (a conditional GET answered from cache).
bool IsSuccess(int http_status);

// GitLab's final answer to one call, as MapGitLabAnswer needs it. Views only:
// the caller keeps the data alive during the call.
struct UpstreamAnswer {
  int status_code = 0;
  HeaderView headers;
  absl::string_view body;
  absl::string_view content_type;
  // The request path under the API root, for ResourceInfo on 404:
  // "/projects/group%2Fdemo/issues/7".
  absl::string_view path;
  absl::Time now;  // for Retry-After HTTP-dates and RateLimit-Reset
  int attempts = 1;
};

// OK for IsSuccess statuses; otherwise the error GitLab's answer means, with
// ErrorInfo{reason "GITLAB_*", domain `domain` (the GitLab host), metadata
// httpStatus, gitlabMessage (cut at 256 bytes), attempts, and gitlabError
// (OAuth errors) or location (redirects)}. The message reads "GitLab 404:
// Project Not Found" (GitLab's "404 " prefix dropped, cut at 512 bytes).
// GitLabError keeps the headers and as much of the body as
// kMaxErrorTrailerBytes allows.
//
//   400, 422 -> INVALID_ARGUMENT      401 -> UNAUTHENTICATED
//   403 -> PERMISSION_DENIED          404 -> NOT_FOUND
//   405, 501 -> UNIMPLEMENTED         409 -> ABORTED
//   412, 3xx, other 4xx -> FAILED_PRECONDITION
//   413, 414 -> INVALID_ARGUMENT      429 -> RESOURCE_EXHAUSTED
//   499 -> CANCELLED                  500 -> INTERNAL
//   502, 503, other 5xx -> UNAVAILABLE  504 -> DEADLINE_EXCEEDED
grpc::Status MapGitLabAnswer(absl::string_view domain,
                             const UpstreamAnswer& answer);

// A failure of the HTTP engine (no GitLab answer): same code as `status`,
// ErrorInfo{reason from the kReasonPayloadUrl payload, else by code:
// UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT, GATEWAY_OVERLOADED, CANCELLED,
// INTERNAL_ERROR; domain kGatewayDomain; metadata attempts}. An OK `status`
// is a caller bug and maps to INTERNAL.
grpc::Status MapTransportError(const absl::Status& status, int attempts);

// INVALID_ARGUMENT "<field>: <description>" with a BadRequest holding the
// violation and ErrorInfo{reason violation.reason, domain kGatewayDomain}.
grpc::Status InvalidArgument(const FieldViolation& violation);

// One of the gateway's own errors (overload, shutdown, limits...):
// ErrorInfo{reason, domain kGatewayDomain}. OK `code` gives OK.
//
//   GatewayError(grpc::StatusCode::RESOURCE_EXHAUSTED, "PAGE_LIMIT",
//                "max_pages 100 reached")
grpc::Status GatewayError(grpc::StatusCode code, absl::string_view reason,
                          absl::string_view message);

// A GraphQL answer (HTTP 2xx) whose JSON holds a non-empty "errors" array:
// INVALID_ARGUMENT with one BadRequest violation per error (field "query" plus
// the error's path; the first 20, within 2 KiB), ErrorInfo GRAPHQL_ERROR and
// GitLabError with the body.
// OK when there are no errors. Only the top-level "errors" member is parsed,
// and only when it is at most kMaxParsedErrorBodyBytes (a longer one is
// reported as one violation giving its size).
grpc::Status MapGraphqlErrors(absl::string_view domain,
                              const UpstreamAnswer& answer);

// RESOURCE_EXHAUSTED raised by the gateway's own limiter: ErrorInfo (domain
// "gitlab-gateway", `reason`) and RetryInfo with `delay`.
grpc::Status RetryLater(absl::string_view reason, absl::string_view message,
                        absl::Duration delay);

// The google.rpc.Status inside `status` (for Response.error on streams):
// its error_details when they parse, else just code and message.
google::rpc::Status ToRpcStatus(const grpc::Status& status);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_STATUS_MAPPING_H_
