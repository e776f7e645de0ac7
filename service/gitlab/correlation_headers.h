#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_CORRELATION_HEADERS_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_CORRELATION_HEADERS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gitlab/gateway/v1/gateway.pb.h"

namespace gitlab_gateway::gitlab {

// The headers that correlate a call across the gateway and GitLab: a request
// id (GitLab answers with its own X-Request-Id, and keeps ours where its front
// propagates correlation ids) and W3C trace context. Pure functions; any
// thread.
//
// Precedence: a caller's Request.headers entry with one of these names wins
// for that request (a BatchExecute item can carry its own id); otherwise the
// RPC's metadata value (x-request-id, traceparent, tracestate) is added. So
// GitLab never sees two of them, and the access log's request id is the one
// GitLab was sent.

inline constexpr absl::string_view kRequestIdHeader = "X-Request-Id";
inline constexpr absl::string_view kTraceparentHeader = "traceparent";
inline constexpr absl::string_view kTracestateHeader = "tracestate";

// Longest accepted values, in bytes (W3C: a version-00 traceparent is 55
// bytes; tracestate should be propagated up to 512).
inline constexpr size_t kMaxRequestIdBytes = 255;
inline constexpr size_t kMaxTraceparentBytes = 255;
inline constexpr size_t kMaxTracestateBytes = 1024;

// The RPC's correlation values; empty = none.
struct Correlation {
  std::string request_id;
  std::string traceparent;
  std::string tracestate;
};

// Whether `name` (any case) is one of the three headers above.
bool IsCorrelationHeader(absl::string_view name);

// Why `value` may not be sent as correlation header `name`, or nullopt: it
// must be non-empty printable ASCII (0x20-0x7E) without leading or trailing
// space, within the cap for `name`. The description never quotes the value.
std::optional<std::string> CorrelationValueProblem(absl::string_view name,
                                                   absl::string_view value);

// A random UUID version 4, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string NewRequestId();

// Appends "Name: value" for each non-empty value of `rpc` whose header
// `request` does not set itself.
void AddCorrelationHeaders(const ::gitlab::gateway::v1::Request& request,
                           const Correlation& rpc,
                           std::vector<std::string>* header_lines);

// The X-Request-Id GitLab is sent for `request`: its own header's value when
// it has one, else `rpc_request_id`.
absl::string_view SentRequestId(const ::gitlab::gateway::v1::Request& request,
                                absl::string_view rpc_request_id);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_CORRELATION_HEADERS_H_
