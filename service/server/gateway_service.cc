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
#include "service/server/rpc_info.h"
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
                 std::shared_ptr<engine::ByteBudget> memory,
                 grpc::CallbackServerContext* context,
                 const grpc::ByteBuffer* request, grpc::ByteBuffer* response)
      : metrics_(metrics), memory_(std::move(memory)), started_(absl::Now()) {
    metrics_->RpcStarted("Execute", "unary", caller_identity_.name);
    grpc::Status bad_metadata = ReadRpcInfo(*context, "Execute", &rpc_);
    v1::Request parsed;
    if (std::optional<grpc::Status> refused =
            DecodeMessage(*request, &parsed)) {
      caller->Refused(caller_identity_, rpc_, "", *refused);
      Done(*refused);
      return;
    }
    if (!bad_metadata.ok()) {
      caller->Refused(caller_identity_, rpc_, parsed.id(), bad_metadata);
      Done(bad_metadata);
      return;
    }
    const size_t request_bytes = request->Length();
    if (memory_ != nullptr) {
      if (!memory_->TryCharge(request_bytes)) {
        grpc::Status refused = MemoryBudgetRefusal(*memory_, request_bytes);
        caller->Refused(caller_identity_, rpc_, parsed.id(), refused);
        Done(refused);
        return;
      }
      request_bytes_ = request_bytes;
    }
    account_ = std::make_shared<engine::ByteAccount>(nullptr, memory_);
    // The completion may call Finish before Start returns (refused input) or
    // from the engine thread; gRPC runs OnDone only after this handler
    // returned, so storing call_ afterwards is safe.
    std::shared_ptr<UpstreamCall> call = caller->Start(
        caller_identity_, rpc_, parsed, RpcDeadline(*context),
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
                         absl::Now() - started_, caller_identity_.name);
    Finish(status);
  }

  metrics::Metrics* const metrics_;
  const std::shared_ptr<engine::ByteBudget> memory_;
  const absl::Time started_;
  // Who made the RPC.
  const auth::Caller caller_identity_;
  // Set in the constructor before any call starts; read-only afterwards.
  RpcInfo rpc_;
  // Set in the constructor, read in OnDone.
  size_t request_bytes_ = 0;
  std::shared_ptr<engine::ByteAccount> account_;
  absl::Mutex mu_;
  std::shared_ptr<UpstreamCall> call_ ABSL_GUARDED_BY(mu_);
};

// A Paginate whose request could not be decoded: answers at once.
class RefusedPaginate final
    : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  RefusedPaginate(UpstreamCaller* caller, metrics::Metrics* metrics,
                  grpc::CallbackServerContext* context,
                  const grpc::Status& status) {
    metrics->RpcStarted("Paginate", "server_stream", caller_identity_.name);
    RpcInfo rpc;
    (void)ReadRpcInfo(*context, "Paginate", &rpc);  // the decode error wins
    caller->Refused(caller_identity_, rpc, "", status);
    metrics->RpcHandled("Paginate", "server_stream", status.error_code(),
                        absl::ZeroDuration(), caller_identity_.name);
    Finish(status);
  }
  void OnDone() override { delete this; }

 private:
  // Who made the RPC.
  const auth::Caller caller_identity_;
};

}  // namespace

GatewayService::GatewayService(UpstreamCaller* caller,
                               metrics::Metrics* metrics, BatchOptions batch,
                               PaginateOptions paginate_options)
    : caller_(caller),
      metrics_(metrics),
      batch_(std::move(batch)),
      paginate_options_([&] {
        PaginateOptions options = paginate_options;
        options.memory = batch_.memory;
        return options;
      }()) {
  InstallProtobufLogFilter();
}

grpc::ServerUnaryReactor* GatewayService::Execute(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return new ExecuteReactor(caller_, metrics_, batch_.memory, context, request,
                            response);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
GatewayService::BatchExecute(grpc::CallbackServerContext* context) {
  return new BatchReactor(caller_, metrics_, context, batch_);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* GatewayService::Paginate(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  v1::PaginateRequest parsed;
  if (std::optional<grpc::Status> refused = DecodeMessage(*request, &parsed)) {
    return new RefusedPaginate(caller_, metrics_, context, *refused);
  }
  return new PaginateReactor(caller_, metrics_, context, parsed,
                             paginate_options_);
}

}  // namespace gitlab_gateway::server
