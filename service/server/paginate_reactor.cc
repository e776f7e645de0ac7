#include "service/server/paginate_reactor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/gitlab/pagination_plan.h"
#include "service/server/rpc_info.h"
#include "service/server/rpc_status.h"
#include "service/server/message_codec.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;

PaginateReactor::PaginateReactor(UpstreamCaller* caller,
                                 metrics::Metrics* metrics,
                                 auth::Caller caller_identity,
                                 grpc::CallbackServerContext* context,
                                 const v1::PaginateRequest& request,
                                 const PaginateOptions& options)
    : caller_(caller),
      caller_identity_(std::move(caller_identity)),
      metrics_(metrics),
      deadline_(RpcDeadline(*context)),
      started_(absl::Now()),
      flow_(caller->NewFlow()),
      base_(request.request()),
      max_pages_(request.max_pages() > 0
                     ? std::min<int64_t>(request.max_pages(), options.max_pages)
                     : options.max_pages),
      max_items_(request.max_items()),
      prefetch_(static_cast<size_t>(std::max(1, options.prefetch))),
      memory_(options.memory) {
  metrics_->RpcStarted("Paginate", "server_stream", caller_identity_.name);
  grpc::Status bad_metadata = ReadRpcInfo(*context, "Paginate", &rpc_);
  std::optional<grpc::Status> refused = gitlab::PaginateRefusal(request);
  if (!refused.has_value() && !bad_metadata.ok()) refused = bad_metadata;
  if (refused.has_value()) {
    caller_->Refused(caller_identity_, rpc_, request.request().id(), *refused);
  }
  Next next;
  {
    absl::MutexLock lock(&mu_);
    if (refused.has_value()) {
      finished_ = true;
      next.finish = *std::move(refused);
    } else {
      to_fetch_.push_back(Fetch{1, base_, std::nullopt});
      next = Plan();
    }
  }
  if (!next.empty()) Act(std::move(next));
}

void PaginateReactor::Follow(int64_t seq, const v1::Response& page) {
  const int64_t items = gitlab::PageItems(page);
  if (items > 0) items_seen_ += items;
  gitlab::FollowUp follow = gitlab::FollowPage(
      base_, caller_->options().base_url, page,
      gitlab::PageContext{seq, items_seen_, max_pages_, max_items_,
                          prefetching_});
  switch (follow.kind) {
    case gitlab::FollowUp::Kind::kNone:
      return;
    case gitlab::FollowUp::Kind::kPrefetch:
      prefetching_ = true;
      first_page_ = follow.page;
      next_prefetch_ = follow.page + 1;
      last_prefetch_ = follow.last_page;
      return;
    case gitlab::FollowUp::Kind::kOffset:
      to_fetch_.push_back(Fetch{
          seq + 1, gitlab::OffsetPageRequest(base_, follow.page), std::nullopt});
      return;
    case gitlab::FollowUp::Kind::kLink:
      to_fetch_.push_back(Fetch{seq + 1, base_, std::move(follow.url)});
      return;
    case gitlab::FollowUp::Kind::kRefused: {
      CallOutcome refused;
      refused.status = std::move(follow.refused);
      caller_->Refused(caller_identity_, rpc_, base_.id(), refused.status);
      done_.emplace(seq + 1, Page{std::move(refused), nullptr});
      return;
    }
  }
}

void PaginateReactor::OnPage(int64_t seq,
                             std::shared_ptr<engine::ByteAccount> account,
                             CallOutcome outcome) {
  // Held until written: the page counts at its encoded size.
  account->ChargeExactly(outcome.status.ok() ? outcome.response->ByteSizeLong()
                                             : 0);
  Next next;
  {
    absl::MutexLock lock(&mu_);
    in_flight_.erase(seq);
    if (!cancelled_ && !stopping_) {
      if (outcome.status.ok()) Follow(seq, *outcome.response);
      done_.emplace(seq, Page{std::move(outcome), std::move(account)});
    } else {
      account->ReleaseAll();
    }
    next = Plan();
  }
  if (!next.empty()) Act(std::move(next));
}

void PaginateReactor::OnWriteDone(bool ok) {
  writing_bytes_.Clear();
  Next next;
  {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    if (writing_account_ != nullptr) writing_account_->ReleaseAll();
    writing_account_ = nullptr;
    if (!ok) cancelled_ = true;
    next = Plan();
  }
  if (!next.empty()) Act(std::move(next));
}

void PaginateReactor::OnCancel() {
  Next next;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    next = Plan();
  }
  if (!next.empty()) Act(std::move(next));
}

void PaginateReactor::Stop(Next& next) {
  to_fetch_.clear();
  for (auto& [seq, page] : done_) {
    if (page.account != nullptr) page.account->ReleaseAll();
  }
  done_.clear();
  prefetching_ = false;
  if (!cancel_sent_) {
    cancel_sent_ = true;
    for (auto& [seq, call] : in_flight_) {
      if (call != nullptr) next.cancel.push_back(call);
    }
  }
  // Pages in flight reference this reactor: finish after the last one.
  if (in_flight_.empty() && !write_pending_ && starting_ == 0) {
    finished_ = true;
    next.finish = cancelled_ ? CancelledStatus(deadline_, "pagination")
                             : end_status_;
  }
}

PaginateReactor::Next PaginateReactor::Plan() {
  Next next;
  if (finished_) return next;
  if (!cancelled_ && !stopping_ && !write_pending_) {
    auto it = done_.find(next_write_);
    if (it != done_.end()) {
      CallOutcome outcome = std::move(it->second.outcome);
      std::shared_ptr<engine::ByteAccount> account =
          std::move(it->second.account);
      done_.erase(it);
      if (!outcome.status.ok()) {
        stopping_ = true;
        end_status_ = outcome.status;
      } else {
        int64_t items = gitlab::PageItems(*outcome.response);
        writing_ = std::move(outcome.response);
        writing_account_ = std::move(account);
        write_pending_ = true;
        next.write = writing_.get();
        ++next_write_;
        ++pages_written_;
        if (items > 0) items_written_ += items;
        if (pages_written_ >= max_pages_ || items == 0 ||
            (max_items_ > 0 && items_written_ >= max_items_)) {
          stopping_ = true;  // finish once this write is done
        }
      }
    }
  }
  if (cancelled_ || stopping_) {
    Stop(next);
    return next;
  }
  while (prefetching_ && next_prefetch_ <= last_prefetch_ &&
         in_flight_.size() + done_.size() + to_fetch_.size() < prefetch_) {
    to_fetch_.push_back(Fetch{next_prefetch_ - first_page_ + 1,
                              gitlab::OffsetPageRequest(base_, next_prefetch_),
                              std::nullopt});
    ++next_prefetch_;
  }
  for (Fetch& fetch : to_fetch_) {
    in_flight_.emplace(fetch.seq, nullptr);
    next.fetches.push_back(std::move(fetch));
    ++starting_;
  }
  to_fetch_.clear();
  const bool more_planned =
      prefetching_ && next_prefetch_ <= last_prefetch_;
  if (!write_pending_ && in_flight_.empty() && done_.empty() && !more_planned &&
      starting_ == 0) {
    finished_ = true;
    next.finish = grpc::Status::OK;
  }
  return next;
}

void PaginateReactor::Act(Next next) {
  for (auto& call : next.cancel) call->Cancel();
  for (Fetch& fetch : next.fetches) {
    const int64_t seq = fetch.seq;
    auto account = std::make_shared<engine::ByteAccount>(nullptr, memory_);
    std::shared_ptr<UpstreamCall> call = caller_->Start(
        caller_identity_, rpc_, fetch.request, deadline_,
        [this, seq, account](CallOutcome outcome) {
          OnPage(seq, account, std::move(outcome));
        },
        flow_, fetch.url.has_value() ? &*fetch.url : nullptr, account);
    bool cancel = false;
    std::optional<Next> replan;
    {
      absl::MutexLock lock(&mu_);
      auto it = in_flight_.find(seq);
      if (it != in_flight_.end()) {
        it->second = call;
        cancel = cancelled_ || stopping_;
      }
      if (--starting_ == 0) replan = Plan();
    }
    if (cancel && call != nullptr) call->Cancel();
    if (replan.has_value() && !replan->empty()) Act(*std::move(replan));
  }
  if (next.write != nullptr) {
    // writing_ is this writer's alone until OnWriteDone; once encoded, the
    // page is held only by writing_bytes_.
    writing_bytes_ = EncodeMessage(*next.write);
    next.write->Clear();
    StartWrite(&writing_bytes_);
  }
  if (next.finish.has_value()) {
    metrics_->RpcHandled("Paginate", "server_stream",
                         next.finish->error_code(), absl::Now() - started_,
                         caller_identity_.name);
    Finish(*next.finish);
  }
}

}  // namespace gitlab_gateway::server
