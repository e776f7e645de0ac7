#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_LOCAL_QUOTA_STORE_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_LOCAL_QUOTA_STORE_H_

#include <memory>
#include <string>

#include "service/limits/credential_limiters.h"
#include "service/limits/quota_store.h"

namespace gitlab_gateway::limits {

// The quota in this process: CredentialLimiters' token buckets behind the
// QuotaStore interface. Admit answers inline. RedisQuotaStore falls back to
// one of these (at rate / replicas) while Redis is slow or down.
// Thread-safe; any thread. `scheduler` must outlive it.
class LocalQuotaStore final : public QuotaStore {
 public:
  LocalQuotaStore(LimiterOptions options, Scheduler* scheduler,
                  CredentialLimiters::PausedHook on_paused = nullptr)
      : limiters_(options, scheduler, std::move(on_paused)) {}

  void Admit(const std::string& key, const std::string& credential_class,
             absl::Time now, absl::Time deadline, AdmitDone done) override {
    // No routes here (the shared quota is per credential), and the
    // fallback runs without slow start (shared_quota.cc): kAdmitAgain, which
    // only those give, does not occur.
    limits::Admission a =
        limiters_.Reserve(key, credential_class, /*route=*/"", now, deadline);
    done(Admission{a.kind != limits::Admission::Kind::kRefused, a.ready,
                   a.epoch.credential});
  }
  uint64_t Epoch(const std::string& key) const override {
    return limiters_.Epoch(key, /*route=*/"").credential;
  }
  void Pause(const std::string& key, const std::string& credential_class,
             absl::Time until, absl::Time now) override {
    limiters_.Pause(key, credential_class, PauseScope::kCredential,
                    /*route=*/"", until, now);
  }
  void Observe(const std::string& key, const std::string& credential_class,
               std::optional<int64_t> limit_per_minute,
               std::optional<int64_t> remaining,
               std::optional<absl::Time> reset, absl::Time now) override {
    limiters_.Observe(key, credential_class, limit_per_minute, remaining, reset,
                      /*seq=*/0, now);
  }

 private:
  CredentialLimiters limiters_;
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_LOCAL_QUOTA_STORE_H_
