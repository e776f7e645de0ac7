#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_RETRY_BUDGET_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_RETRY_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace gitlab_gateway::limits {

// Envoy's retry budget: retries in progress may not exceed
// max(min_concurrent, ratio x active requests). When GitLab is down, most
// calls fail after one attempt instead of every call multiplying the load.
// Thread-safe (atomics); any thread.
class RetryBudget {
 public:
  RetryBudget(double ratio, int min_concurrent)
      : ratio_(ratio), min_(min_concurrent) {}

  void RequestStarted() { active_.fetch_add(1, std::memory_order_relaxed); }
  void RequestFinished() { active_.fetch_sub(1, std::memory_order_relaxed); }

  // Takes a retry slot if the budget allows; pair with RetryFinished.
  bool TryStartRetry();
  void RetryFinished() { retries_.fetch_sub(1, std::memory_order_relaxed); }

  int64_t active() const { return active_.load(std::memory_order_relaxed); }
  int64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  const double ratio_;
  const int min_;
  std::atomic<int64_t> active_{0};
  std::atomic<int64_t> retries_{0};
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_RETRY_BUDGET_H_
