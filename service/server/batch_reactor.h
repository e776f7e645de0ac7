#ifndef GITLAB_GATEWAY_SERVICE_SERVER_BATCH_REACTOR_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_BATCH_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
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

// BatchExecute: every Request read is dispatched at once; each Response is
// written when its call completes (completion order), exactly one per
// Request. A failed item is a Response with `error` set; it never ends the
// stream. An item that cannot be decoded (invalid UTF-8 in a string field)
// fails alone with INVALID_ARGUMENT, like an item refused by validation.
//
// Backpressure: reading pauses while items in flight plus responses not yet
// written reach `window`, or while request bytes of items in flight plus
// answer bytes received or awaiting their write reach the stream's budget.
// Answers alone never hold more than that budget: a chunk that does not fit
// (nor the gateway's budget) fails its item with RESOURCE_EXHAUSTED
// (GATEWAY_OVERLOADED), as does a request body that does not fit the
// gateway's budget. So a caller that never reads costs at most its budget of
// answers, and one that sends huge bodies at most the budget plus one
// message of requests. One write in flight at a time.
// Finish(OK) after the caller half-closed and the last response was
// written; on cancel every item's transfer is cancelled and Finish runs once
// the last item completed (item completions reference the reactor).
//
// gRPC calls the reactions; item completions arrive on the engine thread or,
// for refused items, inside OnReadDone. All state is under mu_; gRPC
// operations are started outside it.
class BatchReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  BatchReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
               auth::Caller caller_identity,
               grpc::CallbackServerContext* context,
               const BatchOptions& options);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to start next, decided under mu_ and done outside it: gRPC may run
  // a reaction inline from StartRead/StartWrite on a thread without a
  // callback context (the engine thread), which would re-enter mu_.
  //
  // An empty Next is not acted on: once mu_ is released with nothing of
  // ours pending, another thread may finish and delete the reactor, so the
  // caller must not touch it again.
  struct Next {
    ::gitlab::gateway::v1::Response* write = nullptr;
    bool read = false;
    std::optional<grpc::Status> finish;
    bool empty() const { return write == nullptr && !read && !finish; }
  };
  // An answer awaiting its write, and the bytes it holds.
  struct Ready {
    gitlab::OwnedResponse response;
    std::shared_ptr<engine::ByteAccount> account;
  };
  struct Item {
    std::shared_ptr<UpstreamCall> call;  // null until Start returned
    size_t request_bytes = 0;  // counted in request_bytes_ and memory_
  };

  void OnItemDone(uint64_t index, absl::Time started,
                  std::shared_ptr<engine::ByteAccount> account,
                  CallOutcome outcome);
  Next Plan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks the stream cancelled and drops unwritten responses; returns the
  // calls to cancel outside mu_.
  std::vector<std::shared_ptr<UpstreamCall>> CancelLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Act(Next next) ABSL_LOCKS_EXCLUDED(mu_);
  bool ReadPaused() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  UpstreamCaller* const caller_;
  // Who made the RPC.
  const auth::Caller caller_identity_;
  // Set in the constructor before the first read; read-only afterwards.
  RpcInfo rpc_;
  metrics::Metrics* const metrics_;
  const absl::Time deadline_;
  const absl::Time started_;
  const uint64_t flow_;
  const size_t window_;
  // Answer bytes of this stream (charged by the engine as they arrive).
  const std::shared_ptr<engine::ByteBudget> stream_budget_;
  const std::shared_ptr<engine::ByteBudget> memory_;

  // Only touched between StartRead and OnReadDone.
  grpc::ByteBuffer request_;
  // Only touched between StartWrite and OnWriteDone (one write at a time).
  grpc::ByteBuffer writing_;

  absl::Mutex mu_;
  uint64_t next_index_ ABSL_GUARDED_BY(mu_) = 0;
  // Request bytes of the items in calls_ (charged to memory_ too).
  size_t request_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Items in flight by index.
  absl::flat_hash_map<uint64_t, Item> calls_ ABSL_GUARDED_BY(mu_);
  std::deque<Ready> ready_ ABSL_GUARDED_BY(mu_);
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_BATCH_REACTOR_H_
