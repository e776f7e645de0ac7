#ifndef GITLAB_GATEWAY_SERVICE_SERVER_DOWNLOAD_REACTOR_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_DOWNLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/auth/caller.h"
#include "service/engine/body_stream.h"
#include "service/engine/byte_budget.h"
#include "service/metrics/metrics.h"
#include "service/server/rpc_info.h"
#include "service/server/stream_options.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

// Download: one GitLab GET whose 2xx body streams to the caller. The head
// (status, headers, page, rate limit) goes first, then the body in pieces of
// at most kMaxChunkBytes, taken straight from curl's write callback. At
// most kMaxPendingBytes wait here for the caller; beyond that the transfer
// pauses until a write completes, so memory per download stays bounded
// whatever the body's size (reserved from the gateway's memory budget for
// the stream's life). A non-2xx answer, a refusal or a transfer failing
// mid-body ends the stream with Execute's status and details; cancelling
// cancels the transfer (its connection is closed).
//
// Threads: gRPC calls the reactions; OnData runs on the engine thread
// (through the stream's BodySink, never after the upstream completion),
// the completion on a pipeline thread. State is under mu_; gRPC
// operations, Resume and Cancel start outside it. Finish runs once, after
// the upstream completion and the last write.
class DownloadReactor final
    : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  // Body bytes received and not yet handed to gRPC before the transfer
  // pauses (one curl buffer may come on top).
  static constexpr size_t kMaxPendingBytes = size_t{2} << 20;

  DownloadReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
                  auth::Caller caller_identity,
                  grpc::CallbackServerContext* context,
                  const ::gitlab::gateway::v1::Request& request,
                  const DownloadOptions& options);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // How often the transfer paused for this stream (tests).
  static uint64_t TotalPauses();

 private:
  class Sink;
  struct Next {
    std::optional<grpc::ByteBuffer> write;
    std::function<void()> resume;
    std::shared_ptr<UpstreamCall> cancel;
    std::optional<grpc::Status> finish;
  };

  // The BodySink side (engine thread).
  void Bind(std::function<void()> resume);
  void OnHead(int status_code, const engine::BodySink::Headers& headers);
  engine::BodySink::Take OnData(const char* data, size_t size);
  void OnUpstreamDone(CallOutcome outcome);

  Next Plan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Act(Next next) ABSL_LOCKS_EXCLUDED(mu_);

  metrics::Metrics* const metrics_;
  // Who made the RPC.
  const auth::Caller caller_identity_;
  const absl::Time deadline_;
  const absl::Time started_;
  const uint64_t max_bytes_;  // 0 = unlimited
  const std::shared_ptr<engine::ByteBudget> memory_;
  // Set in the constructor before the call starts; read-only afterwards.
  RpcInfo rpc_;
  const std::string id_;  // the Request's, echoed in the head
  size_t reserved_ = 0;   // of memory_, set in the constructor
  // Only touched between StartWrite and OnWriteDone.
  grpc::ByteBuffer writing_;

  absl::Mutex mu_;
  std::shared_ptr<UpstreamCall> call_ ABSL_GUARDED_BY(mu_);
  std::function<void()> resume_ ABSL_GUARDED_BY(mu_);
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;  // one Bind per attempt
  std::optional<::gitlab::gateway::v1::Response> head_ ABSL_GUARDED_BY(mu_);
  bool head_sent_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::string> chunks_ ABSL_GUARDED_BY(mu_);
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t received_ ABSL_GUARDED_BY(mu_) = 0;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool upstream_done_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_DOWNLOAD_REACTOR_H_
