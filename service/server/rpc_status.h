#ifndef GITLAB_GATEWAY_SERVICE_SERVER_RPC_STATUS_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_RPC_STATUS_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/engine/byte_budget.h"

// What every reactor needs to know about its RPC's deadline and how it ends.
// Pure functions; any thread.

namespace gitlab_gateway::server {

// The RPC deadline as absl::Time (InfiniteFuture when the caller set none).
absl::Time RpcDeadline(const grpc::CallbackServerContext& context);

// How a cancelled stream ends: DEADLINE_EXCEEDED once its deadline passed
// (the server may notice before the caller does), else CANCELLED.
grpc::Status CancelledStatus(absl::Time deadline, absl::string_view what);

// RESOURCE_EXHAUSTED (GATEWAY_OVERLOADED): a request body of `bytes` does
// not fit in the gateway-wide `memory` budget. Any thread.
grpc::Status MemoryBudgetRefusal(const engine::ByteBudget& memory,
                                 size_t bytes);

// UNAUTHENTICATED with ErrorInfo{reason CALLER_UNAUTHENTICATED, domain
// kGatewayDomain} and the message of `refusal` (auth::CallerIdentifier's,
// which never holds a secret). Any thread.
grpc::Status CallerRefusal(const absl::Status& refusal);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_RPC_STATUS_H_
