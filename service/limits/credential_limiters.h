#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_CREDENTIAL_LIMITERS_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_CREDENTIAL_LIMITERS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/limits/credential_quota.h"
#include "service/limits/scheduler.h"

namespace gitlab_gateway::limits {

// What a 429 pauses: the whole credential (GitLab's per-user throttles) or
// only the route template it came from (endpoint limits).
enum class PauseScope { kCredential, kRoute };

// Calls waiting for one credential's slow-start probe, at most; beyond it
// a call waits for the probe's time bound only.
inline constexpr size_t kMaxProbeWaiters = 10000;

// The embedded quota store: one CredentialQuota per credential, keyed by a
// hash of the token (never the token); the gateway's own credential is one
// key. Idle entries are dropped. Admission (Reserve, Epoch) and what GitLab
// said (Pause, Observe, EndProbe) are separate methods, so a shared store
// can stand behind the same calls.
//
// Thread-safe; any thread. One lock per call; Reserve on a credential with
// tokens and no route pause costs one hash lookup under it.
class CredentialLimiters {
 public:
  // Called with +1 when a credential of `credential_class` starts a pause and
  // -1 when it ends (for the paused-credentials gauge). Route pauses are not
  // counted.
  using PausedHook = std::function<void(const std::string& credential_class,
                                        int delta)>;

  CredentialLimiters(LimiterOptions options, Scheduler* scheduler,
                     PausedHook on_paused = nullptr);

  // May a call of `route` go upstream before `deadline`? See Admission.
  Admission Reserve(const std::string& key, const std::string& credential_class,
                    absl::string_view route, absl::Time now,
                    absl::Time deadline);
  // The epoch a kSend reservation must still see when its wait ends; when it
  // differs, a pause began meanwhile and the call must Reserve again.
  QuotaEpoch Epoch(const std::string& key, absl::string_view route) const;

  // After Reserve said awaits_probe: `wake` runs once on the scheduler
  // thread when the probe ends (not at all when the gateway shuts down, or
  // when kMaxProbeWaiters already wait). Returns false, without keeping
  // `wake`, when the probe has already ended: Reserve again now.
  bool AwaitProbe(const std::string& key, absl::AnyInvocable<void()> wake);
  // The slow-start probe's answer came (after Observe when it carried
  // RateLimit-*), or it failed: the waiting calls go (no-op otherwise).
  void EndProbe(const std::string& key);

  // After a 429: nothing of this credential (kCredential) or of its `route`
  // (kRoute) goes upstream before `until`.
  void Pause(const std::string& key, const std::string& credential_class,
             PauseScope scope, absl::string_view route, absl::Time until,
             absl::Time now);
  // GitLab's RateLimit-* headers from the answer to the call granted as
  // `seq` (Admission::seq).
  void Observe(const std::string& key, const std::string& credential_class,
               std::optional<int64_t> limit_per_minute,
               std::optional<int64_t> remaining,
               std::optional<absl::Time> reset, uint64_t seq, absl::Time now);

  size_t size() const;

 private:
  struct Entry {
    CredentialQuota quota;
    std::string credential_class;
    absl::Time last_used;
    bool counted_paused = false;
    std::vector<absl::AnyInvocable<void()>> probe_waiters;
  };
  Entry& Get(const std::string& key, const std::string& credential_class,
             absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TrackPause(const std::string& key, Entry& entry, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CheckPauseEnded(const std::string& key);
  void EndProbeOf(const std::string& key, std::optional<uint64_t> generation);
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
