#include "service/server/gateway_service.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/gitlab/status_mapping.h"
#include "service/server/batch_reactor.h"
#include "service/server/paginate_reactor.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {
namespace {

// Execute: one upstream call; Finish from the completion, cancel on OnCancel.
class ExecuteReactor final : public grpc::ServerUnaryReactor {
 public:
  ExecuteReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
                 grpc::CallbackServerContext* context,
                 const v1::Request* request, v1::Response* response)
      : metrics_(metrics), started_(absl::Now()) {
    metrics_->RpcStarted("Execute", "unary");
    // The completion may call Finish before Start returns (refused input) or
    // from the engine thread; gRPC runs OnDone only after this handler
    // returned, so storing call_ afterwards is safe.
    std::shared_ptr<UpstreamCall> call = caller->Start(
        *request, RpcDeadline(*context),
        [this, response](CallOutcome outcome) {
          if (outcome.status.ok()) *response = std::move(outcome.response);
          metrics_->RpcHandled("Execute", "unary", outcome.status.error_code(),
                               absl::Now() - started_);
          Finish(outcome.status);
        });
    absl::MutexLock lock(&mu_);
    call_ = std::move(call);
  }

  void OnCancel() override {
    std::shared_ptr<UpstreamCall> call;
    {
      absl::MutexLock lock(&mu_);
      call = call_;
    }
    if (call != nullptr) call->Cancel();
  }

  void OnDone() override { delete this; }

 private:
  metrics::Metrics* const metrics_;
  const absl::Time started_;
  absl::Mutex mu_;
  std::shared_ptr<UpstreamCall> call_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

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

grpc::ServerUnaryReactor* GatewayService::Execute(
    grpc::CallbackServerContext* context, const v1::Request* request,
    v1::Response* response) {
  return new ExecuteReactor(caller_, metrics_, context, request, response);
}

grpc::ServerBidiReactor<v1::Request, v1::Response>*
GatewayService::BatchExecute(grpc::CallbackServerContext* context) {
  return new BatchReactor(caller_, metrics_, context, batch_window_);
}

grpc::ServerWriteReactor<v1::Response>* GatewayService::Paginate(
    grpc::CallbackServerContext* context, const v1::PaginateRequest* request) {
  return new PaginateReactor(caller_, metrics_, context, *request,
                             paginate_options_);
}

}  // namespace gitlab_gateway::server
