#include "service/server/batch_reactor.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/gitlab/status_mapping.h"
#include "service/server/gateway_service.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

BatchReactor::BatchReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
                           grpc::CallbackServerContext* context, int window)
    : caller_(caller),
      metrics_(metrics),
      deadline_(RpcDeadline(*context)),
      started_(absl::Now()),
      flow_(caller->NewFlow()),
      window_(static_cast<size_t>(std::max(1, window))) {
  metrics_->RpcStarted("BatchExecute", "bidi_stream");
  Next next;
  {
    absl::MutexLock lock(&mu_);
    next = Plan();
  }
  Act(std::move(next));
}

bool BatchReactor::WindowFull() const {
  return calls_.size() + ready_.size() >= window_;
}

void BatchReactor::OnReadDone(bool ok) {
  uint64_t index = 0;
  // read_pending_ stays set until request_ is no longer used: another
  // thread's Plan must not start the next read into it meanwhile.
  {
    absl::MutexLock lock(&mu_);
    if (ok && !cancelled_) {
      index = next_index_++;
      calls_.emplace(index, nullptr);
    } else {
      read_pending_ = false;
      reads_done_ = true;
      ok = false;
    }
  }
  if (!ok) {
    Next next;
    {
      absl::MutexLock lock(&mu_);
      next = Plan();
    }
    Act(std::move(next));
    return;
  }
  if (request_.id().empty()) request_.set_id(absl::StrCat(index));
  metrics_->BatchItemStarted();
  absl::Time item_started = absl::Now();
  // Not under mu_: a refused item completes inside Start.
  std::shared_ptr<UpstreamCall> call = caller_->Start(
      request_, deadline_,
      [this, index, item_started](CallOutcome outcome) {
        OnItemDone(index, item_started, std::move(outcome));
      },
      flow_);
  bool cancel = false;
  Next next;
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    auto it = calls_.find(index);
    if (it != calls_.end()) {
      it->second = call;
      cancel = cancelled_;
    }
    next = Plan();
  }
  if (cancel && call != nullptr) call->Cancel();
  Act(std::move(next));
}

void BatchReactor::OnItemDone(uint64_t index, absl::Time started,
                              CallOutcome outcome) {
  const absl::Time now = absl::Now();
  metrics_->BatchItemDone(outcome.status.error_code(), now - started);
  if (!outcome.status.ok()) {
    *outcome.response.mutable_error() = gitlab::ToRpcStatus(outcome.status);
  }
  // Past the stream's deadline nothing more is written: an item that ran
  // into it (the engine never fires before a deadline) ends the stream as
  // gRPC's own deadline would, whichever of the two comes first.
  bool expired = now >= deadline_;
  std::vector<std::shared_ptr<UpstreamCall>> calls;
  Next next;
  {
    absl::MutexLock lock(&mu_);
    calls_.erase(index);
    if (expired && !cancelled_) calls = CancelLocked();
    if (!cancelled_) ready_.push_back(std::move(outcome.response));
    next = Plan();
  }
  for (auto& call : calls) call->Cancel();
  Act(std::move(next));
}

void BatchReactor::OnWriteDone(bool ok) {
  Next next;
  {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    ready_.pop_front();
    // A failed write means the stream is broken (the caller went away).
    if (!ok) cancelled_ = true;
    if (cancelled_) ready_.clear();
    next = Plan();
  }
  Act(std::move(next));
}

void BatchReactor::OnCancel() {
  std::vector<std::shared_ptr<UpstreamCall>> calls;
  Next next;
  {
    absl::MutexLock lock(&mu_);
    calls = CancelLocked();
    next = Plan();
  }
  for (auto& call : calls) call->Cancel();
  Act(std::move(next));
}

std::vector<std::shared_ptr<UpstreamCall>> BatchReactor::CancelLocked() {
  cancelled_ = true;
  // The front response may be in a write gRPC still owns: keep it.
  if (!ready_.empty()) {
    ready_.erase(ready_.begin() + (write_pending_ ? 1 : 0), ready_.end());
  }
  std::vector<std::shared_ptr<UpstreamCall>> calls;
  for (auto& [index, call] : calls_) {
    if (call != nullptr) calls.push_back(call);
  }
  return calls;
}

void BatchReactor::OnDone() { delete this; }

BatchReactor::Next BatchReactor::Plan() {
  Next next;
  if (finished_) return next;
  if (cancelled_) {
    // Items and pending operations reference this reactor: finish only when
    // the last of them is done.
    if (calls_.empty() && !write_pending_ && !read_pending_) {
      finished_ = true;
      next.finish = CancelledStatus(deadline_, "batch");
    }
    return next;
  }
  if (!write_pending_ && !ready_.empty()) {
    write_pending_ = true;
    next.write = &ready_.front();
  }
  if (!reads_done_ && !read_pending_ && !WindowFull()) {
    read_pending_ = true;
    next.read = true;
  }
  if (reads_done_ && calls_.empty() && ready_.empty() && !write_pending_) {
    finished_ = true;
    next.finish = grpc::Status::OK;
  }
  return next;
}

void BatchReactor::Act(Next next) {
  if (next.write != nullptr) StartWrite(next.write);
  if (next.read) StartRead(&request_);
  if (next.finish.has_value()) {
    metrics_->RpcHandled("BatchExecute", "bidi_stream",
                         next.finish->error_code(), absl::Now() - started_);
    Finish(*next.finish);
  }
}

}  // namespace gitlab_gateway::server
