#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_TOKEN_BUCKET_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_TOKEN_BUCKET_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"

namespace gitlab_gateway::limits {

// The furthest an advertised RateLimit-Reset is believed: a skewed clock or a
// bogus value must not pause a credential for days.
inline constexpr absl::Duration kMaxAdvertisedReset = absl::Hours(1);

// A token bucket with reservations (like golang.org/x/time/rate): Reserve
// takes a token now or a future one, so N waiting requests are spread at
// `rate` with O(1) work each instead of waking to compete. Adapts to what
// GitLab advertises (RateLimit-Limit/-Remaining/-Reset) and pauses after a
// 429. Time is passed in, so tests drive it with a fake clock.
//
// Not thread-safe; CredentialQuota (under CredentialLimiters' lock)
// serialises access.
//
//   TokenBucket b(/*per_second=*/50, /*burst=*/10, now);
//   absl::Time go = *b.Reserve(now, deadline);  // now, or when a token frees
class TokenBucket {
 public:
  // per_second <= 0 disables limiting (every reservation is immediate) but
  // pauses still apply.
  TokenBucket(double per_second, double burst, absl::Time now);

  // When the caller may send: `now` if a token is available, else the time
  // the next token frees (or the pause ends). nullopt, with nothing taken,
  // when that time is after `deadline`; then *ready_at says when it would be.
  std::optional<absl::Time> Reserve(absl::Time now, absl::Time deadline,
                                    absl::Time* ready_at = nullptr);
  // Reserve in two steps, for a caller that combines buckets: ReadyAt says
  // when a token would be free (nothing taken), Take takes it (the count may
  // go negative: later callers wait longer).
  absl::Time ReadyAt(absl::Time now);
  void Take();

  // No token before `until`; tokens restart from zero then (no burst right
  // after a 429). Extends, never shortens, a pause. Bumps epoch().
  void PauseUntil(absl::Time until, absl::Time now);

  // GitLab's advertised quota. limit_per_minute caps the configured rate and
  // the tokens held. `remaining` calls until `reset` are exactly what may be
  // sent until then: the tokens held shrink to it and the rest of it refills
  // evenly until `reset` (nothing refills when the burst covers it all);
  // 0 (or less) remaining pauses until `reset`. The caller passes what is
  // left after calls sent since the answer's own (CredentialQuota does).
  void Observe(std::optional<int64_t> limit_per_minute,
               std::optional<int64_t> remaining, std::optional<absl::Time> reset,
               absl::Time now);

  absl::Time paused_until() const { return paused_until_; }
  bool paused(absl::Time now) const { return now < paused_until_; }
  // Changes whenever a pause starts or grows: reservations taken before are
  // stale (their time may fall inside the pause).
  uint64_t epoch() const { return epoch_; }
  bool unlimited() const { return configured_rate_ <= 0; }
  // Refill rate in tokens per second at `now` (0 when unlimited(), or while
  // an advertised remaining quota is already held as tokens).
  double rate(absl::Time now) const;

 private:
  // The rate outside an advertised spread window.
  double BaseRate() const;
  void Refill(absl::Time now);

  const double configured_rate_;
  const double burst_;
  double advertised_rate_ = 0;  // from RateLimit-Limit; 0 = none
  double spread_rate_ = 0;      // rest of the remaining quota / time to reset
  absl::Time spread_until_ = absl::InfinitePast();
  double tokens_;
  absl::Time last_;
  absl::Time paused_until_ = absl::InfinitePast();
  uint64_t epoch_ = 0;
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_TOKEN_BUCKET_H_
