#ifndef GITLAB_GATEWAY_SERVICE_AUTH_CALLER_RATE_LIMITER_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_CALLER_RATE_LIMITER_H_

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/auth/policy.h"
#include "service/limits/token_bucket.h"

namespace gitlab_gateway::auth {

// Per-caller rates (CallerRule.calls_per_minute), on top of each
// credential's bucket: one limits::TokenBucket per caller name, rebuilt when
// a policy reload changes the caller's rate. A call over the rate is refused
// at once rather than queued (the caller, not GitLab, is the one to slow
// down). Bounded: one entry per rule with a rate. Thread-safe; any thread.
class CallerRateLimiter {
 public:
  // nullopt when `rule` allows a call now (taking a token), else how long
  // until it would.
  std::optional<absl::Duration> Admit(const CallerRule& rule, absl::Time now);

 private:
  struct Entry {
    double per_minute;
    double burst;
    limits::TokenBucket bucket;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_CALLER_RATE_LIMITER_H_
