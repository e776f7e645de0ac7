#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_CREDENTIAL_QUOTA_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_CREDENTIAL_QUOTA_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/limits/token_bucket.h"

namespace gitlab_gateway::limits {

struct LimiterOptions {
  double per_minute = 2000;  // <= 0: unlimited (pauses still apply)
  double burst = 100;
  // Sustained limit per hour beside the per-minute bucket; 0: none. When
  // set, at least 60 (ConfigFromFlags refuses less).
  double per_hour = 0;
  // Slow start: a credential whose limit is not known yet sends one call
  // first and holds the others until its answer, at most this long. Zero
  // disables it; so does an unlimited per_minute.
  absl::Duration slow_start_wait = absl::Seconds(5);
};

// Route pauses kept per credential; beyond it the one ending first is
// dropped (its route may then see GitLab's 429 once more).
inline constexpr size_t kMaxRoutePauses = 32;

// Which reservations a pause invalidates: the credential's (every route)
// and the route's own. Compare the whole value.
struct QuotaEpoch {
  uint64_t credential = 0;
  uint64_t route = 0;
  bool operator==(const QuotaEpoch& o) const {
    return credential == o.credential && route == o.route;
  }
  bool operator!=(const QuotaEpoch& o) const { return !(*this == o); }
};

// The answer to "may this call go upstream?".
struct Admission {
  enum class Kind {
    kSend,        // at `ready`, if the epoch is still the same, send
    kAdmitAgain,  // nothing was taken: ask again at `ready` (a route pause,
                  // or the slow-start probe is out: also on the wake-up)
    kRefused,     // `ready` is after the deadline; nothing was taken
  };
  Kind kind = Kind::kRefused;
  absl::Time ready;
  QuotaEpoch epoch;
  // Grants of this credential so far, this one included; pass it back
  // with the answer's RateLimit-* headers (Observe).
  uint64_t seq = 0;
  // kSend: this call is the slow-start probe; its answer ends the probe.
  bool probe = false;
  // kAdmitAgain: the wait is for the slow-start probe's answer.
  bool awaits_probe = false;
};

// One credential's quota: the per-minute bucket (adapted to what GitLab
// advertises), the optional hourly bucket, route pauses and the slow-start
// state. Time is passed in (tests use a fake clock).
//
// Not thread-safe; CredentialLimiters serialises access under its lock.
class CredentialQuota {
 public:
  CredentialQuota(const LimiterOptions& options, absl::Time now);

  Admission Reserve(absl::string_view route, absl::Time now,
                    absl::Time deadline);
  QuotaEpoch Epoch(absl::string_view route) const;

  // After a 429 that concerns every call of the credential (Retry-After of
  // a per-user throttle): nothing goes upstream before `until`.
  void PauseCredential(absl::Time until, absl::Time now);
  // After a 429 that concerns one endpoint: nothing of `route` before
  // `until`. At most kMaxRoutePauses are kept.
  void PauseRoute(absl::string_view route, absl::Time until, absl::Time now);

  // GitLab's RateLimit-* from the answer to the call granted as `seq`
  // (calls granted after it are not counted in its `remaining` yet).
  // Ends the slow-start probe when it carries a limit.
  void Observe(std::optional<int64_t> limit_per_minute,
               std::optional<int64_t> remaining,
               std::optional<absl::Time> reset, uint64_t seq, absl::Time now);

  // Slow start. probing(): a probe is out and others wait for it.
  bool probing() const { return learn_ == Learn::kProbing; }
  uint64_t probe_generation() const { return probe_generation_; }
  absl::Time probe_until() const { return probe_until_; }
  // The probe's answer came (or the wait bound passed, or it failed):
  // release the waiting calls; the burst applies as before.
  void EndProbe() { learn_ = Learn::kKnown; }

  bool paused(absl::Time now) const { return minute_.paused(now); }
  absl::Time paused_until() const { return minute_.paused_until(); }
  size_t route_pauses() const { return route_pauses_.size(); }

 private:
  enum class Learn { kUnknown, kProbing, kKnown };
  struct RoutePause {
    absl::Time until;
    uint64_t epoch;
  };
  // The pause of `route` still running at `now`, or nullptr.
  const RoutePause* FindRoutePause(absl::string_view route,
                                   absl::Time now) const;

  TokenBucket minute_;
  std::optional<TokenBucket> hour_;
  absl::flat_hash_map<std::string, RoutePause> route_pauses_;
  uint64_t route_epochs_ = 0;
  uint64_t grants_ = 0;
  Learn learn_;
  const absl::Duration slow_start_wait_;
  uint64_t probe_generation_ = 0;
  absl::Time probe_until_ = absl::InfinitePast();
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_CREDENTIAL_QUOTA_H_
