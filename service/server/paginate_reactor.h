#ifndef GITLAB_GATEWAY_SERVICE_SERVER_PAGINATE_REACTOR_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_PAGINATE_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/auth/caller.h"
#include "service/engine/byte_account.h"
#include "service/engine/byte_budget.h"
#include "service/metrics/metrics.h"
#include "service/server/rpc_info.h"
#include "service/server/stream_options.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

// Paginate: one Response per page, in page order.
//  - keyset (pagination=keyset, or a Link rel="next" without x-page): follows
//    exactly the validated Link next URL until there is none;
//  - offset with x-total-pages: fetches the remaining pages concurrently
//    (a bounded window) and still writes them in order;
//  - offset without totals (above 10,000 records): follows x-next-page.
// Stops at max_pages / max_items / an empty page; a failing page ends the
// stream with its mapped status after the pages before it (a page that does
// not fit the gateway's memory budget fails with RESOURCE_EXHAUSTED,
// GATEWAY_OVERLOADED). On cancel every in-flight page is cancelled; Finish
// runs once, after the last completed. Writes are raw (the service is
// registered raw to answer undecodable requests itself): each page is
// encoded just before its write.
//
// gRPC calls the reactions; page completions arrive on the engine or
// scheduler thread. State is under mu_; gRPC operations and upstream calls
// start outside it.
class PaginateReactor final
    : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  PaginateReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
                  auth::Caller caller_identity,
                  grpc::CallbackServerContext* context,
                  const ::gitlab::gateway::v1::PaginateRequest& request,
                  const PaginateOptions& options);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override { delete this; }

 private:
  struct Fetch {
    int64_t seq;  // 1-based position in the stream
    ::gitlab::gateway::v1::Request request;
    std::optional<std::string> url;  // keyset: the Link next URL
  };
  // A completed page and the bytes its answer holds.
  struct Page {
    CallOutcome outcome;
    std::shared_ptr<engine::ByteAccount> account;
  };
  // What to do after mu_ is released. An empty Next is not acted on: with
  // nothing of ours pending, another thread may finish and delete the
  // reactor as soon as mu_ is released.
  struct Next {
    std::vector<Fetch> fetches;
    ::gitlab::gateway::v1::Response* write = nullptr;
    std::vector<std::shared_ptr<UpstreamCall>> cancel;
    std::optional<grpc::Status> finish;
    bool empty() const {
      return fetches.empty() && write == nullptr && cancel.empty() && !finish;
    }
  };

  void OnPage(int64_t seq, std::shared_ptr<engine::ByteAccount> account,
              CallOutcome outcome);
  // Acts on what follows page `seq` (gitlab::FollowPage): queues the next
  // fetch, or starts the prefetch plan after the first page.
  void Follow(int64_t seq, const ::gitlab::gateway::v1::Response& page)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Next Plan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Stop(Next& next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Act(Next next) ABSL_LOCKS_EXCLUDED(mu_);

  UpstreamCaller* const caller_;
  // Who made the RPC.
  const auth::Caller caller_identity_;
  // Set in the constructor before any page starts; read-only afterwards.
  RpcInfo rpc_;
  metrics::Metrics* const metrics_;
  const absl::Time deadline_;
  const absl::Time started_;
  const uint64_t flow_;
  const ::gitlab::gateway::v1::Request base_;
  const int64_t max_pages_;
  const int64_t max_items_;  // 0 = no limit
  const size_t prefetch_;
  const std::shared_ptr<engine::ByteBudget> memory_;
  // Only touched between StartWrite and OnWriteDone (one write at a time).
  grpc::ByteBuffer writing_bytes_;

  absl::Mutex mu_;
  std::map<int64_t, std::shared_ptr<UpstreamCall>> in_flight_
      ABSL_GUARDED_BY(mu_);
  std::map<int64_t, Page> done_ ABSL_GUARDED_BY(mu_);
  std::deque<Fetch> to_fetch_ ABSL_GUARDED_BY(mu_);
  int64_t next_write_ ABSL_GUARDED_BY(mu_) = 1;
  bool prefetching_ ABSL_GUARDED_BY(mu_) = false;
  int64_t first_page_ ABSL_GUARDED_BY(mu_) = 1;  // page number of seq 1
  int64_t next_prefetch_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_prefetch_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t items_seen_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t pages_written_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t items_written_ ABSL_GUARDED_BY(mu_) = 0;
  gitlab::OwnedResponse writing_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<engine::ByteAccount> writing_account_ ABSL_GUARDED_BY(mu_);
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_sent_ ABSL_GUARDED_BY(mu_) = false;
  // Fetches handed to Act and not yet started. A page may complete inside
  // Start (refused at once); finishing then would delete the reactor under
  // Act's feet, so Finish waits for this to reach zero.
  int starting_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_PAGINATE_REACTOR_H_
