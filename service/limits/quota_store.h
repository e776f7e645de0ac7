#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_QUOTA_STORE_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_QUOTA_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace gitlab_gateway::limits {

// Where a credential's quota lives: this process (LocalQuotaStore, today's
// token buckets) or Redis, shared by every replica (RedisQuotaStore).
// Credentials are named by their key (a hash of the token, never the token).
//
// Every method may be called from any thread and never blocks on the
// network: Admit answers through `done`, either inline or later on the
// store's own thread; `done` must be short and must not block.
class QuotaStore {
 public:
  struct Admission {
    bool granted = false;
    absl::Time ready;    // when to send (granted), or when it would be
    uint64_t epoch = 0;  // compare with Epoch() when the wait ends
    // The store is shutting down: finish the call, do not send it.
    bool shutting_down = false;
  };
  using AdmitDone = absl::AnyInvocable<void(Admission)>;

  virtual ~QuotaStore() = default;

  // May a call of `key` go now, or when? A slot later than `deadline` is
  // not taken (granted false, `ready` says when it would have been).
  virtual void Admit(const std::string& key,
                     const std::string& credential_class, absl::Time now,
                     absl::Time deadline, AdmitDone done) = 0;
  // Changes when a pause of `key` begins: an admission with another epoch
  // was granted before the pause and must be asked again.
  virtual uint64_t Epoch(const std::string& key) const = 0;
  // After a 429: nothing of this credential goes upstream before `until`.
  virtual void Pause(const std::string& key,
                     const std::string& credential_class, absl::Time until,
                     absl::Time now) = 0;
  // GitLab's RateLimit-Limit/-Remaining/-Reset from any answer.
  virtual void Observe(const std::string& key,
                       const std::string& credential_class,
                       std::optional<int64_t> limit_per_minute,
                       std::optional<int64_t> remaining,
                       std::optional<absl::Time> reset, absl::Time now) = 0;
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_QUOTA_STORE_H_
