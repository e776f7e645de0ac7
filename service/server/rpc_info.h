#ifndef GITLAB_GATEWAY_SERVICE_SERVER_RPC_INFO_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_RPC_INFO_H_

#include <grpcpp/grpcpp.h>

#include "absl/strings/string_view.h"
#include "service/gitlab/correlation_headers.h"

namespace gitlab_gateway::server {

// What UpstreamCaller needs to know about the RPC a call belongs to, besides
// who made it (auth::Caller): its name, for the access log and metrics, and
// the correlation values sent to GitLab. One per RPC, read by every call it
// starts. Plain value.
struct RpcInfo {
  absl::string_view rpc;  // "Execute", "BatchExecute", "Paginate" (static)
  gitlab::Correlation correlation;
};

// gRPC metadata keys read by ReadRpcInfo.
inline constexpr absl::string_view kRequestIdMetadata = "x-request-id";
inline constexpr absl::string_view kTraceparentMetadata = "traceparent";
inline constexpr absl::string_view kTracestateMetadata = "tracestate";

// The RpcInfo of an RPC named `rpc` (a string literal): x-request-id,
// traceparent and tracestate from the caller's metadata, checked with
// gitlab::CorrelationValueProblem; an empty value counts as absent, and a
// request id is generated (UUID v4) when absent. A bad value, or a key given
// more than once, is INVALID_ARGUMENT (ErrorInfo INVALID_METADATA) naming
// the key, never quoting the value; `out->rpc` is set either way. Any
// thread, with the RPC's context alive.
grpc::Status ReadRpcInfo(const grpc::ServerContextBase& context,
                         absl::string_view rpc, RpcInfo* out);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_RPC_INFO_H_
