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
#include "service/server/download_reactor.h"
#include "service/server/upload_reactor.h"
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
                 std::shared_ptr<engine::ByteBudget> memory,
                 grpc::CallbackServerContext* context,
                 const grpc::ByteBuffer* request, grpc::ByteBuffer* response)
      : metrics_(metrics), memory_(std::move(memory)), started_(absl::Now()) {
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

// A Paginate or Download whose request could not be decoded: answers at
// once.
class RefusedStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  RefusedStream(metrics::Metrics* metrics, absl::string_view method,
                const grpc::Status& status) {
    metrics->RpcStarted(method, "server_stream");
    metrics->RpcHandled(method, "server_stream", status.error_code(),
                        absl::ZeroDuration());
    Finish(status);
  }
  void OnDone() override { delete this; }
};

}  // namespace

GatewayService::GatewayService(UpstreamCaller* caller,
                               metrics::Metrics* metrics, BatchOptions batch,
                               PaginateOptions paginate_options,
                               DownloadOptions download, UploadOptions upload)
    : caller_(caller),
      metrics_(metrics),
      batch_(std::move(batch)),
      paginate_options_([&] {
        PaginateOptions options = paginate_options;
        options.memory = batch_.memory;
        return options;
      }()),
      download_options_([&] {
        DownloadOptions options = std::move(download);
        options.memory = batch_.memory;
        return options;
      }()),
      upload_options_([&] {
        UploadOptions options = std::move(upload);
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
    return new RefusedStream(metrics_, "Paginate", *refused);
  }
  return new PaginateReactor(caller_, metrics_, context, parsed,
                             paginate_options_);
}

}  // namespace gitlab_gateway::server

namespace gitlab_gateway::server {

grpc::ServerWriteReactor<grpc::ByteBuffer>* GatewayService::Download(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  v1::Request parsed;
  if (std::optional<grpc::Status> refused = DecodeMessage(*request, &parsed)) {
    return new RefusedStream(metrics_, "Download", *refused);
  }
  return new DownloadReactor(caller_, metrics_, context, parsed,
                             download_options_);
}

grpc::ServerReadReactor<grpc::ByteBuffer>* GatewayService::Upload(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  return new UploadReactor(caller_, metrics_, context, response,
                           upload_options_);
}

}  // namespace gitlab_gateway::server
