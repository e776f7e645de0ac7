#include "service/server/rpc_status.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::server {

absl::Time RpcDeadline(const grpc::CallbackServerContext& context) {
  auto deadline = context.deadline();
  if (deadline >= std::chrono::system_clock::time_point::max() -
                      std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

grpc::Status CancelledStatus(absl::Time deadline, absl::string_view what) {
  if (absl::Now() >= deadline) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        absl::StrCat(what, ": deadline exceeded"));
  }
  return grpc::Status(grpc::StatusCode::CANCELLED,
                      absl::StrCat(what, " cancelled"));
}

grpc::Status MemoryBudgetRefusal(const engine::ByteBudget& memory,
                                 size_t bytes) {
  return gitlab::GatewayError(
      grpc::StatusCode::RESOURCE_EXHAUSTED, "GATEWAY_OVERLOADED",
      absl::StrCat("gateway overloaded: a request body of ", bytes,
                   " bytes does not fit in ", memory.Describe(),
                   " with the bodies already in flight"));
}

grpc::Status CallerRefusal(const absl::Status& refusal) {
  return gitlab::GatewayError(grpc::StatusCode::UNAUTHENTICATED,
                              "CALLER_UNAUTHENTICATED", refusal.message());
}

}  // namespace gitlab_gateway::server
