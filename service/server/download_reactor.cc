#include "service/server/download_reactor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/gitlab/field_violation.h"
#include "service/gitlab/request_validator.h"
#include "service/gitlab/status_mapping.h"
#include "service/server/rpc_status.h"
#include "service/server/stream_chunks.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;
namespace {

std::atomic<uint64_t> pauses{0};

// What the buffer reserved from the gateway's memory budget holds at most:
// the pending bytes, one curl buffer beyond them and the piece being sent.
constexpr size_t kReservedBytes =
    DownloadReactor::kMaxPendingBytes + 2 * kMaxChunkBytes;

std::optional<grpc::Status> Refusal(const v1::Request& request) {
  if (request.api() != v1::API_REST_V4) {
    return gitlab::InvalidArgument(gitlab::FieldViolation{
        "api", "Download streams REST answers only", "INVALID_API"});
  }
  absl::StatusOr<std::string> method = gitlab::RequestMethod(request);
  if (method.ok() && *method != "GET") {
    return gitlab::InvalidArgument(gitlab::FieldViolation{
        "method", "Download sends GET only (Upload sends bodies)",
        "INVALID_METHOD"});
  }
  return std::nullopt;
}

}  // namespace

// The transfer's view of the stream. Forwards to the reactor, which lives
// until the upstream completion ran: the engine calls a sink only before
// that, and the pipeline asks Committed() only before it.
class DownloadReactor::Sink final : public engine::BodySink {
 public:
  explicit Sink(DownloadReactor* reactor) : reactor_(reactor) {}
  void Bind(std::function<void()> resume) override {
    reactor_->Bind(std::move(resume));
  }
  void OnHead(int status_code, const Headers& headers) override {
    committed_.store(true, std::memory_order_relaxed);
    reactor_->OnHead(status_code, headers);
  }
  Take OnData(const char* data, size_t size) override {
    return reactor_->OnData(data, size);
  }
  bool Committed() const override {
    return committed_.load(std::memory_order_relaxed);
  }

 private:
  DownloadReactor* const reactor_;
  std::atomic<bool> committed_{false};
};

uint64_t DownloadReactor::TotalPauses() {
  return pauses.load(std::memory_order_relaxed);
}

DownloadReactor::DownloadReactor(UpstreamCaller* caller,
                                 metrics::Metrics* metrics,
                                 auth::Caller caller_identity,
                                 grpc::CallbackServerContext* context,
                                 const v1::Request& request,
                                 const DownloadOptions& options)
    : metrics_(metrics),
      caller_identity_(std::move(caller_identity)),
      deadline_(RpcDeadline(*context)),
      started_(absl::Now()),
      max_bytes_(options.max_bytes),
      memory_(options.memory),
      id_(request.id()) {
  metrics_->RpcStarted("Download", "server_stream", caller_identity_.name);
  grpc::Status bad_metadata = ReadRpcInfo(*context, "Download", &rpc_);
  std::optional<grpc::Status> refused = Refusal(request);
  if (!refused.has_value() && !bad_metadata.ok()) refused = bad_metadata;
  if (!refused.has_value() && memory_ != nullptr) {
    if (memory_->TryCharge(kReservedBytes)) {
      reserved_ = kReservedBytes;
    } else {
      refused = MemoryBudgetRefusal(*memory_, kReservedBytes);
    }
  }
  if (refused.has_value()) {
    caller->Refused(caller_identity_, rpc_, request.id(), *refused);
    Next next;
    {
      absl::MutexLock lock(&mu_);
      upstream_done_ = true;
      end_ = *std::move(refused);
      next = Plan();
    }
    Act(std::move(next));
    return;
  }
  // The completion may run inside Start (refused at once); Finish waits for
  // nothing else then, and gRPC runs OnDone only after this returned.
  std::shared_ptr<UpstreamCall> call = caller->Start(
      caller_identity_, rpc_, request, deadline_,
      [this](CallOutcome outcome) { OnUpstreamDone(std::move(outcome)); },
      caller->NewFlow(), /*url=*/nullptr, /*account=*/nullptr,
      std::make_shared<Sink>(this));
  bool cancel;
  {
    absl::MutexLock lock(&mu_);
    call_ = call;
    cancel = cancelled_;
  }
  if (cancel && call != nullptr) call->Cancel();
}

void DownloadReactor::Bind(std::function<void()> resume) {
  absl::MutexLock lock(&mu_);
  resume_ = std::move(resume);
  paused_ = false;
  ++attempts_;
}

void DownloadReactor::OnHead(int status_code,
                             const engine::BodySink::Headers& headers) {
  v1::Response head = StreamedHead(status_code, headers);
  head.set_id(id_);
  absl::MutexLock lock(&mu_);
  head.set_attempts(attempts_);
  head_ = std::move(head);
}

engine::BodySink::Take DownloadReactor::OnData(const char* data, size_t size) {
  Next next;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return engine::BodySink::Take::kAbort;
    if (max_bytes_ > 0 && received_ + size > max_bytes_)
      return engine::BodySink::Take::kTooLarge;
    if (pending_bytes_ >= kMaxPendingBytes) {
      paused_ = true;
      pauses.fetch_add(1, std::memory_order_relaxed);
      return engine::BodySink::Take::kPause;
    }
    received_ += size;
    pending_bytes_ += size;
    while (size > 0) {
      if (chunks_.empty() || chunks_.back().size() >= kMaxChunkBytes) {
        chunks_.emplace_back();
        chunks_.back().reserve(kMaxChunkBytes);
      }
      std::string& back = chunks_.back();
      size_t n = std::min(size, kMaxChunkBytes - back.size());
      back.append(data, n);
      data += n;
      size -= n;
    }
    if (write_pending_) return engine::BodySink::Take::kTaken;
    next = Plan();
  }
  Act(std::move(next));
  return engine::BodySink::Take::kTaken;
}

void DownloadReactor::OnUpstreamDone(CallOutcome outcome) {
  Next next;
  {
    absl::MutexLock lock(&mu_);
    upstream_done_ = true;
    resume_ = nullptr;
    if (!outcome.status.ok()) {
      end_ = std::move(outcome.status);
    } else {
      end_ = grpc::Status::OK;
      v1::Response& response = *outcome.response;
      if (!head_.has_value()) {
        // An empty body: nothing streamed, the answer itself is the head.
        response.clear_body();
        head_ = std::move(response);
      }
    }
    next = Plan();
  }
  Act(std::move(next));
}

void DownloadReactor::OnWriteDone(bool ok) {
  writing_.Clear();
  Next next;
  {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    if (!ok && !cancelled_) {
      cancelled_ = true;
      next.cancel = call_;
    }
    Next planned = Plan();
    next.write = std::move(planned.write);
    next.resume = std::move(planned.resume);
    next.finish = std::move(planned.finish);
  }
  Act(std::move(next));
}

void DownloadReactor::OnCancel() {
  Next next;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    next = Plan();
    next.cancel = call_;
  }
  Act(std::move(next));
}

void DownloadReactor::OnDone() {
  if (reserved_ > 0) memory_->Release(reserved_);
  delete this;
}

DownloadReactor::Next DownloadReactor::Plan() {
  Next next;
  if (finished_) return next;
  const bool failed = end_.has_value() && !end_->ok();
  if (!cancelled_ && !failed && !write_pending_) {
    if (!head_sent_) {
      if (head_.has_value()) {
        head_sent_ = true;
        write_pending_ = true;
        next.write = EncodeDownloadHead(*head_);
      }
    } else if (!chunks_.empty()) {
      std::string piece = std::move(chunks_.front());
      chunks_.pop_front();
      pending_bytes_ -= piece.size();
      write_pending_ = true;
      next.write = EncodeDownloadData(std::move(piece));
      if (paused_ && pending_bytes_ < kMaxPendingBytes) {
        paused_ = false;
        next.resume = resume_;
      }
    }
  }
  if (failed || cancelled_) {
    chunks_.clear();
    pending_bytes_ = 0;
  }
  // The transfer may still call OnData until the completion ran.
  if (upstream_done_ && !write_pending_ &&
      (cancelled_ || failed || (head_sent_ && chunks_.empty()))) {
    finished_ = true;
    next.finish = cancelled_ ? CancelledStatus(deadline_, "download") : *end_;
  }
  return next;
}

void DownloadReactor::Act(Next next) {
  if (next.cancel != nullptr) next.cancel->Cancel();
  if (next.resume) next.resume();
  if (next.write.has_value()) {
    writing_ = *std::move(next.write);
    StartWrite(&writing_);
  }
  if (next.finish.has_value()) {
    metrics_->RpcHandled("Download", "server_stream", next.finish->error_code(),
                         absl::Now() - started_, caller_identity_.name);
    Finish(*next.finish);
  }
}

}  // namespace gitlab_gateway::server
