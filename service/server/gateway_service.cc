#include "service/server/gateway_service.h"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/engine/byte_account.h"
#include "service/gitlab/status_mapping.h"
#include "service/server/batch_reactor.h"
#include "service/server/message_codec.h"
#include "service/server/paginate_reactor.h"
#include "service/server/rpc_status.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {
namespace {

// Execute: one upstream call; Finish from the completion, cancel on OnCancel.
// The request's bytes and the answer's count against the gateway's memory
// budget until gRPC is done with the call (OnDone).
class ExecuteReactor final : public grpc::ServerUnaryReactor {
 public:
  ExecuteReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
                 auth::Caller caller_identity,
                 std::shared_ptr<engine::ByteBudget> memory,
                 grpc::CallbackServerContext* context,
                 const grpc::ByteBuffer* request, grpc::ByteBuffer* response)
      : metrics_(metrics),
        memory_(std::move(memory)),
        started_(absl::Now()),
        caller_identity_(std::move(caller_identity)) {
    metrics_->RpcStarted("Execute", "unary");
    v1::Request parsed;
    if (std::optional<grpc::Status> refused =
            DecodeMessage(*request, &parsed)) {
      Done(*refused);
      return;
    }
    const size_t request_bytes = request->Length();
    if (memory_ != nullptr) {
      if (!memory_->TryCharge(request_bytes)) {
        Done(MemoryBudgetRefusal(*memory_, request_bytes));
        return;
      }
      request_bytes_ = request_bytes;
    }
    account_ = std::make_shared<engine::ByteAccount>(nullptr, memory_);
    // The completion may call Finish before Start returns (refused input) or
    // from the engine thread; gRPC runs OnDone only after this handler
    // returned, so storing call_ afterwards is safe.
    std::shared_ptr<UpstreamCall> call = caller->Start(
        caller_identity_, parsed, RpcDeadline(*context),
        [this, response](CallOutcome outcome) {
          if (outcome.status.ok()) {
            account_->ChargeExactly(outcome.response.ByteSizeLong());
            *response = EncodeMessage(outcome.response);
          }
          Done(outcome.status);
        },
        /*flow=*/0, /*url=*/nullptr, account_);
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

  void OnDone() override {
    if (request_bytes_ > 0) memory_->Release(request_bytes_);
    if (account_ != nullptr) account_->ReleaseAll();
    delete this;
  }

 private:
  void Done(const grpc::Status& status) {
    metrics_->RpcHandled("Execute", "unary", status.error_code(),
                         absl::Now() - started_);
    Finish(status);
  }

  metrics::Metrics* const metrics_;
  const std::shared_ptr<engine::ByteBudget> memory_;
  const absl::Time started_;
  // Who made the RPC.
  const auth::Caller caller_identity_;
  // Set in the constructor, read in OnDone.
  size_t request_bytes_ = 0;
  std::shared_ptr<engine::ByteAccount> account_;
  absl::Mutex mu_;
  std::shared_ptr<UpstreamCall> call_ ABSL_GUARDED_BY(mu_);
};

// An RPC refused before it started (its caller's identity, or a Paginate
// request that could not be decoded): answers at once, reads nothing.
template <typename Reactor>
class Refused final : public Reactor {
 public:
  Refused(metrics::Metrics* metrics, const char* method, const char* type,
          const grpc::Status& status) {
    metrics->RpcStarted(method, type);
    metrics->RpcHandled(method, type, status.error_code(),
                        absl::ZeroDuration());
    this->Finish(status);
  }
  void OnDone() override { delete this; }
};
using RefusedExecute = Refused<grpc::ServerUnaryReactor>;
using RefusedBatch =
    Refused<grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>>;
using RefusedPaginate = Refused<grpc::ServerWriteReactor<grpc::ByteBuffer>>;

}  // namespace

GatewayService::GatewayService(UpstreamCaller* caller,
                               metrics::Metrics* metrics, BatchOptions batch,
                               PaginateOptions paginate_options,
                               const auth::CallerIdentifier* identifier)
    : caller_(caller),
      metrics_(metrics),
      identifier_(identifier),
      batch_(std::move(batch)),
      paginate_options_([&] {
        PaginateOptions options = paginate_options;
        options.memory = batch_.memory;
        return options;
      }()) {
  InstallProtobufLogFilter();
}

absl::StatusOr<auth::Caller> GatewayService::Identify(
    const grpc::CallbackServerContext& context) const {
  if (identifier_ == nullptr) return auth::Caller{};
  return identifier_->Identify(context);
}

grpc::ServerUnaryReactor* GatewayService::Execute(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  absl::StatusOr<auth::Caller> identity = Identify(*context);
  if (!identity.ok()) {
    return new RefusedExecute(metrics_, "Execute", "unary",
                              CallerRefusal(identity.status()));
  }
  return new ExecuteReactor(caller_, metrics_, *std::move(identity),
                            batch_.memory, context, request, response);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
GatewayService::BatchExecute(grpc::CallbackServerContext* context) {
  absl::StatusOr<auth::Caller> identity = Identify(*context);
  if (!identity.ok()) {
    return new RefusedBatch(metrics_, "BatchExecute", "bidi_stream",
                            CallerRefusal(identity.status()));
  }
  return new BatchReactor(caller_, metrics_, *std::move(identity), context,
                          batch_);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* GatewayService::Paginate(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  absl::StatusOr<auth::Caller> identity = Identify(*context);
  if (!identity.ok()) {
    return new RefusedPaginate(metrics_, "Paginate", "server_stream",
                               CallerRefusal(identity.status()));
  }
  v1::PaginateRequest parsed;
  if (std::optional<grpc::Status> refused = DecodeMessage(*request, &parsed)) {
    return new RefusedPaginate(metrics_, "Paginate", "server_stream", *refused);
  }
  return new PaginateReactor(caller_, metrics_, *std::move(identity), context,
                             parsed, paginate_options_);
}

}  // namespace gitlab_gateway::server
