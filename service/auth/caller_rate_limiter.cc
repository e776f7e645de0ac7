#include "service/auth/caller_rate_limiter.h"

namespace gitlab_gateway::auth {

std::optional<absl::Duration> CallerRateLimiter::Admit(const CallerRule& rule,
                                                       absl::Time now) {
  if (rule.calls_per_minute <= 0) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(rule.name);
  if (it == buckets_.end() || it->second.per_minute != rule.calls_per_minute ||
      it->second.burst != rule.burst) {
    // Rules only come from the policy file, so names are bounded by it.
    if (it != buckets_.end()) buckets_.erase(it);
    it = buckets_
             .emplace(rule.name,
                      Entry{rule.calls_per_minute, rule.burst,
                            limits::TokenBucket(rule.calls_per_minute / 60.0,
                                                rule.burst, now)})
             .first;
  }
  absl::Time ready_at;
  if (it->second.bucket.Reserve(now, now, &ready_at).has_value()) {
    return std::nullopt;
  }
  return ready_at - now;
}

}  // namespace gitlab_gateway::auth
