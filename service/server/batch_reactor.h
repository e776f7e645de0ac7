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
#include "service/metrics/metrics.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

// BatchExecute: every Request read is dispatched at once; each Response is
// written when its call completes (completion order), exactly one per
// Request. A failed item is a Response with `error` set; it never ends the
// stream.
//
// Backpressure: items in flight plus responses not yet written stay under
// `window`; reading pauses while the window is full. One write in flight at a
// time. Finish(OK) after the caller half-closed and the last response was
// written; on cancel every item's transfer is cancelled and Finish runs once
// the last item completed (item completions reference the reactor).
//
// gRPC calls the reactions; item completions arrive on the engine thread or,
// for refused items, inside OnReadDone. All state is under mu_; gRPC
// operations are started outside it.
class BatchReactor final
    : public grpc::ServerBidiReactor<v1::Request, v1::Response> {
 public:
  BatchReactor(UpstreamCaller* caller, metrics::Metrics* metrics,
               grpc::CallbackServerContext* context, int window);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to start next, decided under mu_ and done outside it: gRPC may run
  // a reaction inline from StartRead/StartWrite on a thread without a
  // callback context (the engine thread), which would re-enter mu_.
  struct Next {
    v1::Response* write = nullptr;
    bool read = false;
    std::optional<grpc::Status> finish;
  };

  void OnItemDone(uint64_t index, absl::Time started, CallOutcome outcome);
  Next Plan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks the stream cancelled and drops unwritten responses; returns the
  // calls to cancel outside mu_.
  std::vector<std::shared_ptr<UpstreamCall>> CancelLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Act(Next next) ABSL_LOCKS_EXCLUDED(mu_);
  bool WindowFull() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  UpstreamCaller* const caller_;
  metrics::Metrics* const metrics_;
  const absl::Time deadline_;
  const absl::Time started_;
  const uint64_t flow_;
  const size_t window_;

  // Only touched between StartRead and OnReadDone.
  v1::Request request_;

  absl::Mutex mu_;
  uint64_t next_index_ ABSL_GUARDED_BY(mu_) = 0;
  // Calls in flight by item index; null until Start returned.
  absl::flat_hash_map<uint64_t, std::shared_ptr<UpstreamCall>> calls_
      ABSL_GUARDED_BY(mu_);
  std::deque<v1::Response> ready_ ABSL_GUARDED_BY(mu_);
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_BATCH_REACTOR_H_
