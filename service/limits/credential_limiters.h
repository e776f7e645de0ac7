#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_CREDENTIAL_LIMITERS_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_CREDENTIAL_LIMITERS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/limits/scheduler.h"
#include "service/limits/token_bucket.h"

namespace gitlab_gateway::limits {

struct LimiterOptions {
  double per_minute = 2000;  // <= 0: unlimited (pauses still apply)
  double burst = 100;
};

// One TokenBucket per credential, keyed by a hash of the token (never the
// token); the gateway's own credential is one key. Idle buckets are dropped.
// Thread-safe; any thread.
class CredentialLimiters {
 public:
  // Called with +1 when a credential of `credential_class` starts a pause and
  // -1 when it ends (for the paused-credentials gauge).
  using PausedHook = std::function<void(const std::string& credential_class,
                                        int delta)>;

  CredentialLimiters(LimiterOptions options, Scheduler* scheduler,
                     PausedHook on_paused = nullptr);

  struct Reservation {
    bool granted = false;
    absl::Time ready;    // when to send (granted), or when it would be
    uint64_t epoch = 0;  // compare with Epoch() when the wait ends
  };
  Reservation Reserve(const std::string& key,
                      const std::string& credential_class, absl::Time now,
                      absl::Time deadline);
  // The pause epoch of `key`: a reservation whose epoch differs was taken
  // before a pause began and must be taken again.
  uint64_t Epoch(const std::string& key) const;

  // After a 429: nothing of this credential goes upstream before `until`.
  void Pause(const std::string& key, const std::string& credential_class,
             absl::Time until, absl::Time now);
  // GitLab's RateLimit-* headers from any answer.
  void Observe(const std::string& key, const std::string& credential_class,
               std::optional<int64_t> limit_per_minute,
               std::optional<int64_t> remaining,
               std::optional<absl::Time> reset, absl::Time now);

  size_t size() const;

 private:
  struct Entry {
    TokenBucket bucket;
    std::string credential_class;
    absl::Time last_used;
    bool counted_paused = false;
  };
  Entry& Get(const std::string& key, const std::string& credential_class,
             absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TrackPause(const std::string& key, Entry& entry, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CheckPauseEnded(const std::string& key);
  void Evict(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LimiterOptions options_;
  Scheduler* const scheduler_;
  const PausedHook on_paused_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t reservations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_CREDENTIAL_LIMITERS_H_
