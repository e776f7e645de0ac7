#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_QUOTA_STORE_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_QUOTA_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "service/limits/quota_store.h"
#include "service/limits/redis_client.h"
#include "service/limits/scheduler.h"

namespace gitlab_gateway::limits {

// --quota_redis_url and its companions; `redis` unset: the embedded
// limiter alone, nothing talks to Redis.
struct SharedQuotaOptions {
  std::optional<RedisAddress> redis;
  absl::Duration timeout = absl::Milliseconds(50);
  // Replicas sharing a credential: each one's local share while Redis is
  // unusable is the limit / replicas (default: k8s/base/hpa.yaml's
  // minReplicas).
  int replicas = 2;
};

// One limit of a credential: `per_second` (<= 0: unlimited) with `burst`.
struct QuotaLimit {
  double per_second = 0;
  double burst = 1;
};

// The quota shared by every replica through Redis (kGcraScript, one
// EVALSHA per admission on RedisClient's thread). 429 pauses and GitLab's
// advertised RateLimit-* go to Redis too, so every replica follows them.
//
// Redis slow (no answer within the client's timeout) or down: admissions go
// to `fallback` (the caller builds it at rate / replicas) at once, without
// waiting on Redis, until a probe (PING, every `probe_min` doubling to
// `probe_max`) is answered in time; each change of mode is logged once and
// reported to `on_mode` (true = shared). Pauses and advertisements are
// applied to `fallback` too, so a switch keeps them.
//
// Any thread. Admit's `done` runs inline (fallback) or on the client
// thread. Shutdown() first (then every admission answers shutting_down),
// while `scheduler` still runs; destroy after the scheduler is gone.
class RedisQuotaStore final : public QuotaStore {
 public:
  struct Options {
    RedisClient::Options redis;
    std::vector<QuotaLimit> limits;  // [0] is the per-minute limit
    std::string key_prefix = "gitlab-gateway:quota:";
    absl::Duration probe_min = absl::Milliseconds(200);
    absl::Duration probe_max = absl::Seconds(5);
  };
  using ModeHook = std::function<void(bool shared)>;

  RedisQuotaStore(Options options, std::unique_ptr<QuotaStore> fallback,
                  Scheduler* scheduler, ModeHook on_mode = nullptr);
  ~RedisQuotaStore() override;

  void Admit(const std::string& key, const std::string& credential_class,
             absl::Time now, absl::Time deadline, AdmitDone done) override;
  uint64_t Epoch(const std::string& key) const override;
  void Pause(const std::string& key, const std::string& credential_class,
             absl::Time until, absl::Time now) override;
  void Observe(const std::string& key, const std::string& credential_class,
               std::optional<int64_t> limit_per_minute,
               std::optional<int64_t> remaining,
               std::optional<absl::Time> reset, absl::Time now) override;

  // Stops talking to Redis: pending admissions finish (shutting_down), and
  // so does every later one. Idempotent.
  void Shutdown();

  bool shared() const { return shared_.load(); }

 private:
  // The script's ARGV after op and its three values.
  std::vector<std::string> Args(std::string op, int64_t x, int64_t y,
                                int64_t z) const;
  // Sends a pause or an observation; the answer updates the epoch.
  void Send(const std::string& key, std::vector<std::string> args);
  void NoteEpoch(const std::string& key, int64_t epoch);
  // Called with the first error of a shared period.
  void EnterFallback(const absl::Status& why);
  void Probe();

  const Options options_;
  const std::unique_ptr<QuotaStore> fallback_;
  Scheduler* const scheduler_;
  const ModeHook on_mode_;
  std::atomic<bool> shared_{true};
  std::atomic<bool> stopping_{false};

  mutable absl::Mutex mu_;
  // The last pause epoch Redis reported per key (bounded: cleared when
  // large; a cleared key costs its waiting calls one more admission).
  absl::flat_hash_map<std::string, uint64_t> epochs_ ABSL_GUARDED_BY(mu_);
  absl::Duration probe_backoff_ ABSL_GUARDED_BY(mu_);

  mutable absl::Mutex client_mu_;
  // Reset by Shutdown; Eval only queues, so callers hold the lock briefly.
  std::unique_ptr<RedisClient> client_ ABSL_GUARDED_BY(client_mu_);
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_QUOTA_STORE_H_
