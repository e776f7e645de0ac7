#include "service/server/batch_reactor.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/gitlab/status_mapping.h"
#include "service/server/rpc_info.h"
#include "service/server/rpc_status.h"
#include "service/server/message_codec.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;

BatchReactor::BatchReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
                           auth::Caller caller_identity,
                           grpc::CallbackServerContext* context,
                           const BatchOptions& options)
    : caller_(caller),
      caller_identity_(std::move(caller_identity)),
      metrics_(metrics),
      deadline_(RpcDeadline(*context)),
      started_(absl::Now()),
      flow_(caller->NewFlow()),
      window_(static_cast<size_t>(std::max(1, options.window))),
      stream_budget_(std::make_shared<engine::ByteBudget>(
          "stream", options.stream_budget_bytes)),
      memory_(options.memory) {
  metrics_->RpcStarted("BatchExecute", "bidi_stream", caller_identity_.name);
  // Bad correlation metadata concerns every item: the stream is refused.
  grpc::Status bad_metadata = ReadRpcInfo(*context, "BatchExecute", &rpc_);
  if (!bad_metadata.ok()) {
    caller_->Refused(caller_identity_, rpc_, "", bad_metadata);
  }
  Next next;
  {
    absl::MutexLock lock(&mu_);
    if (!bad_metadata.ok()) {
      finished_ = true;
      next.finish = std::move(bad_metadata);
    } else {
      next = Plan();
    }
  }
  if (!next.empty()) Act(std::move(next));
}

bool BatchReactor::ReadPaused() const {
  return calls_.size() + ready_.size() >= window_ ||
         request_bytes_ + stream_budget_->used() >= stream_budget_->capacity();
}

void BatchReactor::OnReadDone(bool ok) {
  uint64_t index = 0;
  const size_t request_bytes = ok ? request_.Length() : 0;
  v1::Request request;
  std::string readable_id;
  std::optional<grpc::Status> refused;
  if (ok) {
    refused = DecodeMessage(request_, &request, &readable_id);
    request_.Clear();
    if (!refused.has_value()) readable_id = request.id();
    if (!refused.has_value() && memory_ != nullptr &&
        !memory_->TryCharge(request_bytes)) {
      refused = MemoryBudgetRefusal(*memory_, request_bytes);
    }
  }
  // read_pending_ stays set until this reaction is done with the item: a
  // completion on another thread must not finish (and delete) the reactor
  // meanwhile.
  {
    absl::MutexLock lock(&mu_);
    if (ok && !cancelled_) {
      index = next_index_++;
      const size_t charged = refused ? 0 : request_bytes;
      calls_.emplace(index, Item{nullptr, charged});
      request_bytes_ += charged;
    } else {
      read_pending_ = false;
      reads_done_ = true;
      ok = false;
    }
  }
  if (!ok) {
    if (!refused.has_value() && request_bytes > 0 && memory_ != nullptr) {
      memory_->Release(request_bytes);  // read, then found cancelled
    }
    Next next;
    {
      absl::MutexLock lock(&mu_);
      next = Plan();
    }
    if (!next.empty()) Act(std::move(next));
    return;
  }
  metrics_->BatchItemStarted();
  const absl::Time item_started = absl::Now();
  auto account = std::make_shared<engine::ByteAccount>(stream_budget_, memory_);
  std::shared_ptr<UpstreamCall> call;
  if (refused.has_value()) {
    CallOutcome outcome;
    outcome.status = *std::move(refused);
    outcome.response->set_id(readable_id.empty() ? absl::StrCat(index)
                                                : readable_id);
    caller_->Refused(caller_identity_, rpc_, outcome.response->id(),
                     outcome.status);
    OnItemDone(index, item_started, std::move(account), std::move(outcome));
  } else {
    if (request.id().empty()) request.set_id(absl::StrCat(index));
    // Not under mu_: a refused item completes inside Start.
    call = caller_->Start(
        caller_identity_, rpc_, request, deadline_,
        [this, index, item_started, account](CallOutcome outcome) {
          OnItemDone(index, item_started, account, std::move(outcome));
        },
        flow_, nullptr, account);
  }
  bool cancel = false;
  Next next;
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    auto it = calls_.find(index);
    if (it != calls_.end()) {
      it->second.call = call;
      cancel = cancelled_;
    }
    next = Plan();
  }
  if (cancel && call != nullptr) call->Cancel();
  if (!next.empty()) Act(std::move(next));
}

void BatchReactor::OnItemDone(uint64_t index, absl::Time started,
                              std::shared_ptr<engine::ByteAccount> account,
                              CallOutcome outcome) {
  const absl::Time now = absl::Now();
  metrics_->BatchItemDone(outcome.status.error_code(), now - started);
  if (!outcome.status.ok()) {
    *outcome.response->mutable_error() = gitlab::ToRpcStatus(outcome.status);
  }
  // The answer is held until written: it counts at its encoded size.
  account->ChargeExactly(outcome.response->ByteSizeLong());
  // Past the stream's deadline nothing more is written: an item that ran
  // into it (the engine never fires before a deadline) ends the stream as
  // gRPC's own deadline would, whichever of the two comes first.
  bool expired = now >= deadline_;
  std::vector<std::shared_ptr<UpstreamCall>> calls;
  Next next;
  {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(index);
    if (it != calls_.end()) {
      // Released before Plan, so a read paused on the budget resumes.
      const size_t request_bytes = it->second.request_bytes;
      request_bytes_ -= request_bytes;
      if (memory_ != nullptr) memory_->Release(request_bytes);
      calls_.erase(it);
    }
    if (expired && !cancelled_) calls = CancelLocked();
    if (!cancelled_) {
      ready_.push_back(Ready{std::move(outcome.response), std::move(account)});
    } else {
      account->ReleaseAll();
    }
    next = Plan();
  }
  for (auto& call : calls) call->Cancel();
  if (!next.empty()) Act(std::move(next));
}

void BatchReactor::OnWriteDone(bool ok) {
  writing_.Clear();
  Next next;
  {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    ready_.front().account->ReleaseAll();
    ready_.pop_front();
    // A failed write means the stream is broken (the caller went away).
    if (!ok) cancelled_ = true;
    if (cancelled_) {
      for (Ready& ready : ready_) ready.account->ReleaseAll();
      ready_.clear();
    }
    next = Plan();
  }
  if (!next.empty()) Act(std::move(next));
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
  if (!next.empty()) Act(std::move(next));
}

std::vector<std::shared_ptr<UpstreamCall>> BatchReactor::CancelLocked() {
  cancelled_ = true;
  // The front response may be in a write gRPC still owns: keep it.
  if (!ready_.empty()) {
    auto first_dropped = ready_.begin() + (write_pending_ ? 1 : 0);
    for (auto it = first_dropped; it != ready_.end(); ++it) {
      it->account->ReleaseAll();
    }
    ready_.erase(first_dropped, ready_.end());
  }
  std::vector<std::shared_ptr<UpstreamCall>> calls;
  for (auto& [index, item] : calls_) {
    if (item.call != nullptr) calls.push_back(item.call);
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
    next.write = ready_.front().response.get();
  }
  if (!reads_done_ && !read_pending_ && !ReadPaused()) {
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
  if (next.write != nullptr) {
    // The front Response is this writer's alone until OnWriteDone; once
    // encoded, its body is held only by writing_.
    writing_ = EncodeMessage(*next.write);
    next.write->Clear();
    StartWrite(&writing_);
  }
  if (next.read) StartRead(&request_);
  if (next.finish.has_value()) {
    metrics_->RpcHandled("BatchExecute", "bidi_stream",
                         next.finish->error_code(), absl::Now() - started_,
                         caller_identity_.name);
    Finish(*next.finish);
  }
}

}  // namespace gitlab_gateway::server
