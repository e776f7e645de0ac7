#include "service/limits/retry_budget.h"

#include <algorithm>

namespace gitlab_gateway::limits {

bool RetryBudget::TryStartRetry() {
  const int64_t allowed = std::max<int64_t>(
      min_, static_cast<int64_t>(ratio_ * static_cast<double>(active())));
  int64_t current = retries_.load(std::memory_order_relaxed);
  while (current < allowed) {
    if (retries_.compare_exchange_weak(current, current + 1,
                                       std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

}  // namespace gitlab_gateway::limits
