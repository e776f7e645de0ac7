#include "service/limits/token_bucket.h"

#include <algorithm>

namespace gitlab_gateway::limits {

TokenBucket::TokenBucket(double per_second, double burst, absl::Time now)
    : configured_rate_(std::max(0.0, per_second)),
      burst_(std::max(1.0, burst)),
      tokens_(std::max(1.0, burst)),
      last_(now) {}

double TokenBucket::BaseRate() const {
  if (advertised_rate_ > 0) return std::min(configured_rate_, advertised_rate_);
  return configured_rate_;
}

double TokenBucket::rate(absl::Time now) const {
  if (unlimited()) return 0;
  if (now < spread_until_) return std::min(BaseRate(), spread_rate_);
  return BaseRate();
}

void TokenBucket::Refill(absl::Time now) {
  if (now <= last_ || unlimited()) return;
  double gained = 0;
  absl::Time t = last_;
  if (t < spread_until_) {  // the part inside the advertised window
    absl::Time end = std::min(now, spread_until_);
    gained += absl::ToDoubleSeconds(end - t) * rate(t);
    t = end;
  }
  if (t < now) gained += absl::ToDoubleSeconds(now - t) * BaseRate();
  tokens_ = std::min(burst_, tokens_ + gained);
  last_ = now;
}

absl::Time TokenBucket::ReadyAt(absl::Time now) {
  absl::Time start = std::max(now, paused_until_);
  if (unlimited()) return start;
  Refill(start);
  if (tokens_ >= 1) return start;
  double need = 1 - tokens_;
  absl::Time t = std::max(start, last_);
  if (t < spread_until_) {
    double r = rate(t);
    double gain = r * absl::ToDoubleSeconds(spread_until_ - t);
    if (r > 0 && gain >= need) return t + absl::Seconds(need / r);
    need -= gain;
    t = spread_until_;
  }
  return t + absl::Seconds(need / BaseRate());
}

void TokenBucket::Take() {
  if (!unlimited()) tokens_ -= 1;
}

std::optional<absl::Time> TokenBucket::Reserve(absl::Time now,
                                               absl::Time deadline,
                                               absl::Time* ready_at) {
  absl::Time ready = ReadyAt(now);
  if (ready_at != nullptr) *ready_at = ready;
  if (ready > deadline) return std::nullopt;
  Take();
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
    // A burst above GitLab's own limit would be refused by it.
    tokens_ = std::min(tokens_, static_cast<double>(*limit_per_minute));
  }
  if (!remaining.has_value() || !reset.has_value() || *reset <= now) return;
  reset = std::min(*reset, now + kMaxAdvertisedReset);
  if (*remaining <= 0) {
    PauseUntil(*reset, now);
    return;
  }
  // Exactly `remaining` more until the reset: what is held now (a debt of
  // reservations already taken included) plus what refills until then.
  const double left = static_cast<double>(*remaining);
  tokens_ = std::min(tokens_, left);
  spread_rate_ = (left - tokens_) / absl::ToDoubleSeconds(*reset - now);
  spread_until_ = *reset;
  if (last_ < now) last_ = now;
}

}  // namespace gitlab_gateway::limits
