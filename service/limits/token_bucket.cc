#include "service/limits/token_bucket.h"

#include <algorithm>

namespace gitlab_gateway::limits {

TokenBucket::TokenBucket(double per_second, double burst, absl::Time now)
    : configured_rate_(std::max(0.0, per_second)),
      burst_(std::max(1.0, burst)),
      tokens_(std::max(1.0, burst)),
      last_(now) {}

double TokenBucket::rate(absl::Time now) const {
  double rate = configured_rate_;
  if (rate <= 0) return 0;
  if (advertised_rate_ > 0) rate = std::min(rate, advertised_rate_);
  if (spread_rate_ > 0 && now < spread_until_) rate = std::min(rate, spread_rate_);
  return rate;
}

void TokenBucket::Refill(absl::Time now) {
  if (now <= last_) return;
  tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) *
                                           rate(last_));
  last_ = now;
}

std::optional<absl::Time> TokenBucket::Reserve(absl::Time now,
                                               absl::Time deadline,
                                               absl::Time* ready_at) {
  absl::Time start = std::max(now, paused_until_);
  absl::Time ready = start;
  double per_second = rate(start);
  if (per_second > 0) {
    Refill(start);
    if (tokens_ < 1) {
      ready = start + absl::Seconds((1 - tokens_) / per_second);
    }
  }
  if (ready_at != nullptr) *ready_at = ready;
  if (ready > deadline) return std::nullopt;
  if (per_second > 0) tokens_ -= 1;  // may go negative: later callers wait more
  return ready;
}

void TokenBucket::PauseUntil(absl::Time until, absl::Time now) {
  if (until <= paused_until_ || until <= now) return;
  paused_until_ = until;
  tokens_ = 0;
  last_ = until;
  ++epoch_;
}

void TokenBucket::Observe(std::optional<int64_t> limit_per_minute,
                          std::optional<int64_t> remaining,
                          std::optional<absl::Time> reset, absl::Time now) {
  Refill(now);
  if (limit_per_minute.has_value() && *limit_per_minute > 0) {
    advertised_rate_ = static_cast<double>(*limit_per_minute) / 60.0;
  }
  if (!remaining.has_value() || !reset.has_value() || *reset <= now) return;
  reset = std::min(*reset, now + kMaxAdvertisedReset);
  if (*remaining <= 0) {
    PauseUntil(*reset, now);
    return;
  }
  spread_rate_ =
      static_cast<double>(*remaining) / absl::ToDoubleSeconds(*reset - now);
  spread_until_ = *reset;
  // Never hold more than the remaining quota as burst.
  tokens_ = std::min(tokens_, static_cast<double>(*remaining));
}

}  // namespace gitlab_gateway::limits
