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
#include "service/server/rpc_info.h"
#include "service/server/rpc_status.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;
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
            account_->ChargeExactly(outcome.response->ByteSizeLong());
            *response = EncodeMessage(*outcome.response);
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

  // gRPC runs the reactions of an "inlineable" reactor on the thread that
  // completes the operation (its callback-queue thread) instead of handing
  // each to its executor: one thread wake-up fewer per call (bench/README.md,
  // issue #12). Allowed because both reactions are short and never block:
  // OnCancel takes the call's handle under mu_ and cancels it (a queue push;
  // a waiting call finishes at once, which only starts gRPC's Finish batch);
  // OnDone releases budget counters and deletes the reactor.
  bool InternalInlineable() override { return true; }

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

// An RPC refused before it started (its caller's identity, or a Paginate
// request that could not be decoded): answers at once, reads nothing.
template <typename Reactor>
class Refused final : public Reactor {
 public:
  Refused(UpstreamCaller* caller, metrics::Metrics* metrics,
          grpc::CallbackServerContext* context, const char* method,
          const char* type, auth::Caller identity, const grpc::Status& status)
      : caller_identity_(std::move(identity)) {
    metrics->RpcStarted(method, type, caller_identity_.name);
    RpcInfo rpc;
    (void)ReadRpcInfo(*context, method, &rpc);  // the refusal at hand wins
    caller->Refused(caller_identity_, rpc, "", status);
    metrics->RpcHandled(method, type, status.error_code(),
                        absl::ZeroDuration(), caller_identity_.name);
    this->Finish(status);
  }
  void OnDone() override { delete this; }

 private:
  // Who made the RPC.
  const auth::Caller caller_identity_;
};
using RefusedExecute = Refused<grpc::ServerUnaryReactor>;
using RefusedBatch =
    Refused<grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>>;
using RefusedPaginate = Refused<grpc::ServerWriteReactor<grpc::ByteBuffer>>;
using RefusedUpload = Refused<grpc::ServerReadReactor<grpc::ByteBuffer>>;

}  // namespace

GatewayService::GatewayService(UpstreamCaller* caller,
                               metrics::Metrics* metrics, BatchOptions batch,
                               PaginateOptions paginate_options,
                               const auth::CallerIdentifier* identifier,
                               DownloadOptions download, UploadOptions upload)
    : caller_(caller),
      metrics_(metrics),
      identifier_(identifier),
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
    return new RefusedExecute(caller_, metrics_, context, "Execute", "unary",
                              auth::Caller{}, CallerRefusal(identity.status()));
  }
  return new ExecuteReactor(caller_, metrics_, *std::move(identity),
                            batch_.memory, context, request, response);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
GatewayService::BatchExecute(grpc::CallbackServerContext* context) {
  absl::StatusOr<auth::Caller> identity = Identify(*context);
  if (!identity.ok()) {
    return new RefusedBatch(caller_, metrics_, context, "BatchExecute",
                            "bidi_stream", auth::Caller{},
                            CallerRefusal(identity.status()));
  }
  return new BatchReactor(caller_, metrics_, *std::move(identity), context,
                          batch_);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* GatewayService::Paginate(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  absl::StatusOr<auth::Caller> identity = Identify(*context);
  if (!identity.ok()) {
    return new RefusedPaginate(caller_, metrics_, context, "Paginate",
                               "server_stream", auth::Caller{},
                               CallerRefusal(identity.status()));
  }
  v1::PaginateRequest parsed;
  if (std::optional<grpc::Status> refused = DecodeMessage(*request, &parsed)) {
    return new RefusedPaginate(caller_, metrics_, context, "Paginate",
                               "server_stream", *std::move(identity), *refused);
  }
  return new PaginateReactor(caller_, metrics_, *std::move(identity), context,
                             parsed, paginate_options_);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* GatewayService::Download(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  absl::StatusOr<auth::Caller> identity = Identify(*context);
  if (!identity.ok()) {
    return new RefusedPaginate(caller_, metrics_, context, "Download",
                               "server_stream", auth::Caller{},
                               CallerRefusal(identity.status()));
  }
  v1::Request parsed;
  if (std::optional<grpc::Status> refused = DecodeMessage(*request, &parsed)) {
    return new RefusedPaginate(caller_, metrics_, context, "Download",
                               "server_stream", *std::move(identity), *refused);
  }
  return new DownloadReactor(caller_, metrics_, *std::move(identity), context,
                             parsed, download_options_);
}

grpc::ServerReadReactor<grpc::ByteBuffer>* GatewayService::Upload(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  absl::StatusOr<auth::Caller> identity = Identify(*context);
  if (!identity.ok()) {
    return new RefusedUpload(caller_, metrics_, context, "Upload",
                             "client_stream", auth::Caller{},
                             CallerRefusal(identity.status()));
  }
  return new UploadReactor(caller_, metrics_, *std::move(identity), context,
                           response, upload_options_);
}

}  // namespace gitlab_gateway::server
