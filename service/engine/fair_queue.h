#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_FAIR_QUEUE_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_FAIR_QUEUE_H_

#include <cstdint>
#include <deque>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"

namespace gitlab_gateway::engine {

// Waiting transfers, FIFO within a flow and round-robin across flows, so one
// flow with thousands of entries (a big BatchExecute) delays another flow's
// entry (a unary Execute) by at most one entry per active flow.
//
// Not thread-safe: the engine's loop thread owns it.
//
//   FairQueue q;
//   q.Push(/*flow=*/7, 1); q.Push(7, 2); q.Push(0, 3);
//   q.Pop();  // 1, then 3, then 2
class FairQueue {
 public:
  void Push(uint64_t flow, uint64_t id);
  // The next entry in round-robin order; nullopt when empty.
  std::optional<uint64_t> Pop();
  // Removes every entry for which `drop` returns true, keeping the order.
  void RemoveIf(absl::FunctionRef<bool(uint64_t)> drop);
  void Clear();
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t flows() const { return queues_.size(); }

 private:
  absl::flat_hash_map<uint64_t, std::deque<uint64_t>> queues_;
  // Flows with entries, in service order; each appears once.
  std::deque<uint64_t> turn_;
  size_t size_ = 0;
};

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_FAIR_QUEUE_H_
