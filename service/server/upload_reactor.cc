#include "service/server/upload_reactor.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/gitlab/field_violation.h"
#include "service/gitlab/request_validator.h"
#include "service/gitlab/status_mapping.h"
#include "service/server/message_codec.h"
#include "service/server/rpc_status.h"
#include "service/server/stream_chunks.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;
namespace {

constexpr size_t kReservedBytes =
    UploadReactor::kMaxPendingBytes + 2 * kMaxChunkBytes;

grpc::Status Invalid(absl::string_view field, absl::string_view why,
                     absl::string_view reason) {
  return gitlab::InvalidArgument(gitlab::FieldViolation{
      std::string(field), std::string(why), std::string(reason)});
}

// The caller's refusal, if any, of the first UploadChunk.
std::optional<grpc::Status> Refusal(const v1::UploadChunk& first,
                                    uint64_t max_bytes) {
  if (!first.has_request()) {
    return Invalid("request", "the first UploadChunk must carry the request",
                   "MISSING_REQUEST");
  }
  const v1::Request& request = first.request();
  if (request.api() != v1::API_REST_V4) {
    return Invalid("request.api", "Upload sends REST requests only",
                   "INVALID_API");
  }
  absl::StatusOr<std::string> method = gitlab::RequestMethod(request);
  if (method.ok() && *method != "PUT" && *method != "POST") {
    return Invalid("request.method", "Upload sends PUT or POST only",
                   "INVALID_METHOD");
  }
  if (request.body_case() != v1::Request::BODY_NOT_SET) {
    return Invalid("request.body",
                   "the body goes in UploadChunk.data, not in the request",
                   "INVALID_BODY");
  }
  if (first.has_size() && first.size() < 0) {
    return Invalid("size", "must not be negative", "INVALID_SIZE");
  }
  if (first.has_size() && max_bytes > 0 &&
      static_cast<uint64_t>(first.size()) > max_bytes) {
    return Invalid("size",
                   absl::StrCat("exceeds the gateway's upload limit of ",
                                max_bytes >> 20, " MiB"),
                   "UPLOAD_TOO_LARGE");
  }
  return std::nullopt;
}

bool HasContentType(const v1::Request& request) {
  for (const v1::Header& header : request.headers()) {
    if (absl::EqualsIgnoreCase(header.name(), "Content-Type")) return true;
  }
  return false;
}

}  // namespace

// The transfer's view of the stream. Forwards to the reactor, which lives
// until the upstream completion ran (the engine reads only before that).
class UploadReactor::Source final : public engine::BodySource {
 public:
  Source(UploadReactor* reactor, int64_t size)
      : reactor_(reactor), size_(size) {}
  void Bind(std::function<void()> resume) override {
    reactor_->Bind(std::move(resume));
  }
  size_t Read(char* buffer, size_t size) override {
    return reactor_->Read(buffer, size);
  }
  int64_t size() const override { return size_; }

 private:
  UploadReactor* const reactor_;
  const int64_t size_;
};

UploadReactor::UploadReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
                             auth::Caller caller_identity,
                             grpc::CallbackServerContext* context,
                             grpc::ByteBuffer* response,
                             const UploadOptions& options)
    : caller_(caller),
      metrics_(metrics),
      caller_identity_(std::move(caller_identity)),
      response_(response),
      deadline_(RpcDeadline(*context)),
      started_(absl::Now()),
      max_bytes_(options.max_bytes),
      memory_(options.memory) {
  metrics_->RpcStarted("Upload", "client_stream", caller_identity_.name);
  grpc::Status bad_metadata = ReadRpcInfo(*context, "Upload", &rpc_);
  Next next;
  {
    absl::MutexLock lock(&mu_);
    if (!bad_metadata.ok()) {
      caller_->Refused(caller_identity_, rpc_, "", bad_metadata);
      Refuse(bad_metadata);
    } else if (memory_ != nullptr && !memory_->TryCharge(kReservedBytes)) {
      Refuse(MemoryBudgetRefusal(*memory_, kReservedBytes));
    } else {
      reserved_ = memory_ != nullptr ? kReservedBytes : 0;
      read_pending_ = true;
      next.read = true;
    }
    if (!next.read) next = Plan();
  }
  Act(std::move(next));
}

void UploadReactor::StartCall(const v1::UploadChunk& first) {
  v1::Request request = first.request();
  if (!HasContentType(request)) {
    v1::Header* header = request.add_headers();
    header->set_name("Content-Type");
    header->set_value("application/octet-stream");
  }
  auto source =
      std::make_shared<Source>(this, first.has_size() ? first.size() : -1);
  std::shared_ptr<UpstreamCall> call = caller_->Start(
      caller_identity_, rpc_, request, deadline_,
      [this](CallOutcome outcome) { OnUpstreamDone(std::move(outcome)); },
      caller_->NewFlow(), /*url=*/nullptr, /*account=*/nullptr,
      /*sink=*/nullptr, std::move(source));
  Next next;
  {
    absl::MutexLock lock(&mu_);
    call_ = std::move(call);
    next = Plan();
  }
  Act(std::move(next));
}

void UploadReactor::OnReadDone(bool ok) {
  v1::UploadChunk chunk;
  std::optional<grpc::Status> undecodable;
  if (ok) undecodable = DecodeMessage(reading_, &chunk);
  reading_.Clear();
  bool start = false;
  Next next;
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    if (finished_ || refused_.has_value()) {
      // Draining: nothing more is read.
    } else if (undecodable.has_value()) {
      Refuse(*undecodable);
    } else if (!ok) {
      if (!started_call_) {
        Refuse(Invalid("request", "the stream ended before its first message",
                       "MISSING_REQUEST"));
      } else if (size_ >= 0 && received_ != static_cast<uint64_t>(size_)) {
        Refuse(Invalid("size",
                       absl::StrCat("the body had ", received_,
                                    " bytes, not the ", size_, " announced"),
                       "SIZE_MISMATCH"));
      } else {
        eof_ = true;
      }
    } else if (!started_call_) {
      if (std::optional<grpc::Status> refused = Refusal(chunk, max_bytes_)) {
        Refuse(*refused);
      } else {
        started_call_ = true;
        start = true;
        size_ = chunk.has_size() ? chunk.size() : -1;
      }
    }
    if (ok && !refused_.has_value() && !finished_ && started_call_ &&
        !chunk.data().empty()) {
      const size_t n = chunk.data().size();
      received_ += n;
      if (size_ >= 0 && received_ > static_cast<uint64_t>(size_)) {
        Refuse(Invalid(
            "data",
            absl::StrCat("more than the ", size_, " bytes announced in size"),
            "SIZE_MISMATCH"));
      } else if (max_bytes_ > 0 && received_ > max_bytes_) {
        Refuse(Invalid("data",
                       absl::StrCat("exceeds the gateway's upload limit of ",
                                    max_bytes_ >> 20, " MiB"),
                       "UPLOAD_TOO_LARGE"));
      } else {
        pending_bytes_ += n;
        chunks_.push_back(std::move(*chunk.mutable_data()));
      }
    }
    if (!start) next = Plan();
  }
  if (start) return StartCall(chunk);
  Act(std::move(next));
}

void UploadReactor::OnCancel() {
  Next next;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    Refuse(CancelledStatus(deadline_, "upload"));
    next = Plan();
  }
  Act(std::move(next));
}

void UploadReactor::OnDone() {
  if (reserved_ > 0) memory_->Release(reserved_);
  delete this;
}

void UploadReactor::Bind(std::function<void()> resume) {
  absl::MutexLock lock(&mu_);
  resume_ = std::move(resume);
  paused_ = false;
}

size_t UploadReactor::Read(char* buffer, size_t size) {
  Next next;
  size_t copied = 0;
  {
    absl::MutexLock lock(&mu_);
    if (refused_.has_value()) return engine::BodySource::kAbort;
    while (copied < size && !chunks_.empty()) {
      const std::string& front = chunks_.front();
      size_t n = std::min(size - copied, front.size() - front_offset_);
      std::memcpy(buffer + copied, front.data() + front_offset_, n);
      copied += n;
      front_offset_ += n;
      if (front_offset_ == front.size()) {
        chunks_.pop_front();
        front_offset_ = 0;
      }
    }
    pending_bytes_ -= copied;
    if (copied == 0 && !eof_) {
      paused_ = true;
      return engine::BodySource::kPause;
    }
    // Room again: read the next message (not after the end).
    if (read_pending_ || eof_ || pending_bytes_ >= kMaxPendingBytes) {
      return copied;
    }
    next = Plan();
  }
  Act(std::move(next));
  return copied;
}

void UploadReactor::OnUpstreamDone(CallOutcome outcome) {
  Next next;
  {
    absl::MutexLock lock(&mu_);
    upstream_done_ = true;
    resume_ = nullptr;
    chunks_.clear();
    pending_bytes_ = 0;
    if (outcome.status.ok()) *response_ = EncodeMessage(*outcome.response);
    end_ = std::move(outcome.status);
    next = Plan();
  }
  Act(std::move(next));
}

void UploadReactor::Refuse(grpc::Status status) {
  if (refused_.has_value()) return;
  refused_ = std::move(status);
  chunks_.clear();
  pending_bytes_ = 0;
}

UploadReactor::Next UploadReactor::Plan() {
  Next next;
  if (finished_) return next;
  if (refused_.has_value() && call_ != nullptr && !upstream_done_) {
    next.cancel = call_;  // Cancel is idempotent
  }
  if (!refused_.has_value() && started_call_ && !upstream_done_ && !eof_ &&
      !read_pending_ && pending_bytes_ < kMaxPendingBytes) {
    read_pending_ = true;
    next.read = true;
  }
  // curl waits in a paused read: wake it for data, the end or the abort.
  if (paused_ && (pending_bytes_ > 0 || eof_ || refused_.has_value())) {
    paused_ = false;
    next.resume = resume_;
  }
  const bool call_over = upstream_done_ || (!started_call_ && call_ == nullptr);
  if (!read_pending_ && call_over &&
      (refused_.has_value() || end_.has_value())) {
    finished_ = true;
    next.finish = refused_.has_value() ? *refused_ : *end_;
  }
  return next;
}

void UploadReactor::Act(Next next) {
  if (next.cancel != nullptr) next.cancel->Cancel();
  if (next.resume) next.resume();
  if (next.read) StartRead(&reading_);
  if (next.finish.has_value()) {
    metrics_->RpcHandled("Upload", "client_stream", next.finish->error_code(),
                         absl::Now() - started_, caller_identity_.name);
    Finish(*next.finish);
  }
}

}  // namespace gitlab_gateway::server
