#ifndef GITLAB_GATEWAY_SERVICE_SERVER_UPLOAD_REACTOR_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_UPLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

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

// Upload: one GitLab PUT or POST whose body streams from the caller. The
// first UploadChunk carries the Request (and the size, sent as
// Content-Length); its data and the following chunks' are fed to curl's read
// callback. At most kMaxPendingBytes (plus one message) wait here: beyond
// that the reactor stops reading (gRPC's flow control holds the caller),
// and while nothing waits the transfer pauses until the next message.
// The answer is Execute's: a Response, or the mapped status with details.
// Uploads are never retried (the body is consumed as it is sent).
//
// Threads: gRPC calls the reactions; Read runs on the engine thread
// (through the stream's BodySource, never after the upstream completion),
// the completion on a pipeline thread. State is under mu_; gRPC operations,
// Resume and Cancel start outside it. Finish runs once, after the upstream
// completion (or a refusal before the call started) and with no read
// pending.
class UploadReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  static constexpr size_t kMaxPendingBytes = size_t{2} << 20;

  UploadReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
                auth::Caller caller_identity,
                grpc::CallbackServerContext* context,
                grpc::ByteBuffer* response, const UploadOptions& options);

  void OnReadDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  class Source;
  struct Next {
    bool read = false;
    std::function<void()> resume;
    std::shared_ptr<UpstreamCall> cancel;
    std::optional<grpc::Status> finish;
  };

  // The first message: checks it and starts the call.
  void StartCall(const ::gitlab::gateway::v1::UploadChunk& first);
  // The BodySource side (engine thread).
  void Bind(std::function<void()> resume);
  size_t Read(char* buffer, size_t size);
  void OnUpstreamDone(CallOutcome outcome);

  // Ends the stream with `status` (a caller error) and cancels the call.
  void Refuse(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Next Plan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Act(Next next) ABSL_LOCKS_EXCLUDED(mu_);

  UpstreamCaller* const caller_;
  metrics::Metrics* const metrics_;
  // Who made the RPC.
  const auth::Caller caller_identity_;
  grpc::ByteBuffer* const response_;
  const absl::Time deadline_;
  const absl::Time started_;
  const uint64_t max_bytes_;  // 0 = unlimited
  const std::shared_ptr<engine::ByteBudget> memory_;
  size_t reserved_ = 0;  // of memory_, set in the constructor
  // Set in the constructor before the call starts; read-only afterwards.
  RpcInfo rpc_;
  // Only touched between StartRead and OnReadDone.
  grpc::ByteBuffer reading_;

  absl::Mutex mu_;
  bool started_call_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<UpstreamCall> call_ ABSL_GUARDED_BY(mu_);
  std::function<void()> resume_ ABSL_GUARDED_BY(mu_);
  int64_t size_ ABSL_GUARDED_BY(mu_) = -1;
  std::deque<std::string> chunks_ ABSL_GUARDED_BY(mu_);
  size_t front_offset_ ABSL_GUARDED_BY(mu_) = 0;  // read from chunks_[0]
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t received_ ABSL_GUARDED_BY(mu_) = 0;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
  bool upstream_done_ ABSL_GUARDED_BY(mu_) = false;
  // The caller's error or cancel: wins over the upstream outcome.
  std::optional<grpc::Status> refused_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_UPLOAD_REACTOR_H_
