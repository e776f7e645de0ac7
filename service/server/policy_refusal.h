#ifndef GITLAB_GATEWAY_SERVICE_SERVER_POLICY_REFUSAL_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_POLICY_REFUSAL_H_

#include <grpcpp/support/status.h>

#include "absl/time/time.h"
#include "service/auth/caller.h"
#include "service/auth/policy_decision.h"

namespace gitlab_gateway::server {

// The gRPC statuses of the policy's refusals. Pure; any thread.

// kUnauthenticated: UNAUTHENTICATED, ErrorInfo{CALLER_UNAUTHENTICATED,
// "gitlab-gateway", metadata caller, rule}. kNotAllowed: PERMISSION_DENIED,
// ErrorInfo{CALLER_NOT_ALLOWED, same metadata}. `decision` must refuse.
grpc::Status PolicyRefusal(const auth::Decision& decision,
                           const auth::Caller& caller);

// RESOURCE_EXHAUSTED, ErrorInfo{CALLER_RATE_LIMITED, metadata caller, rule
// "calls_per_minute"} and RetryInfo{delay}.
grpc::Status CallerRateLimited(const auth::Caller& caller,
                               absl::Duration delay);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_POLICY_REFUSAL_H_
