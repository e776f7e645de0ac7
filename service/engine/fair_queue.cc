#include "service/engine/fair_queue.h"

namespace gitlab_gateway::engine {

void FairQueue::Push(uint64_t flow, uint64_t id) {
  std::deque<uint64_t>& queue = queues_[flow];
  if (queue.empty()) turn_.push_back(flow);
  queue.push_back(id);
  ++size_;
}

std::optional<uint64_t> FairQueue::Pop() {
  if (turn_.empty()) return std::nullopt;
  uint64_t flow = turn_.front();
  turn_.pop_front();
  auto it = queues_.find(flow);
  uint64_t id = it->second.front();
  it->second.pop_front();
  --size_;
  if (it->second.empty()) {
    queues_.erase(it);
  } else {
    turn_.push_back(flow);
  }
  return id;
}

void FairQueue::RemoveIf(absl::FunctionRef<bool(uint64_t)> drop) {
  std::deque<uint64_t> turn;
  for (uint64_t flow : turn_) {
    auto it = queues_.find(flow);
    std::deque<uint64_t> kept;
    for (uint64_t id : it->second) {
      if (drop(id)) {
        --size_;
      } else {
        kept.push_back(id);
      }
    }
    if (kept.empty()) {
      queues_.erase(it);
    } else {
      it->second.swap(kept);
      turn.push_back(flow);
    }
  }
  turn_.swap(turn);
}

void FairQueue::Clear() {
  queues_.clear();
  turn_.clear();
  size_ = 0;
}

}  // namespace gitlab_gateway::engine
