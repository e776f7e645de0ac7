#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_BYTE_BUDGET_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_BYTE_BUDGET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace gitlab_gateway::engine {

// A pool of bytes shared by many holders: how much of a memory budget the
// bodies buffered for callers use (one stream's, or the whole gateway's).
// Every method is lock-free, O(1) and may be called from any thread, also
// the engine's loop thread for each received chunk.
//
//   ByteBudget budget("gateway", 1 << 30);
//   if (!budget.TryCharge(n)) return Overloaded();
//   ...
//   budget.Release(n);
class ByteBudget {
 public:
  // `name` says whose budget it is in error messages ("stream", "gateway").
  ByteBudget(std::string name, size_t capacity);

  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  // Charges `bytes` when used() + bytes stays within capacity(); else
  // charges nothing, counts a refusal and returns false.
  bool TryCharge(size_t bytes);
  // Charges whatever the capacity: for bytes already held that must count.
  void Charge(size_t bytes);
  void Release(size_t bytes);

  // At or over capacity: a holder that pauses on it (a stream's reads)
  // should wait for a Release.
  bool Full() const { return used() >= capacity_; }

  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }
  // The most ever charged at once, and how many TryCharge calls failed
  // (for tests and diagnostics).
  size_t peak() const { return peak_.load(std::memory_order_relaxed); }
  uint64_t refusals() const {
    return refusals_.load(std::memory_order_relaxed);
  }
  absl::string_view name() const { return name_; }

  // "the stream memory budget (1 MiB)": for error messages.
  std::string Describe() const;

 private:
  void RaisePeak(size_t used);

  const std::string name_;
  const size_t capacity_;
  std::atomic<size_t> used_{0};
  std::atomic<size_t> peak_{0};
  std::atomic<uint64_t> refusals_{0};
};

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_BYTE_BUDGET_H_
