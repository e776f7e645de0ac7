#include "service/pipeline/shared_quota.h"

#include <algorithm>
#include <utility>

#include "service/limits/local_quota_store.h"

namespace gitlab_gateway::pipeline {

std::unique_ptr<limits::RedisQuotaStore> MakeSharedQuota(
    const limits::SharedQuotaOptions& options,
    const limits::LimiterOptions& limiter, limits::Scheduler* scheduler,
    metrics::SharedQuotaMetrics* quota_metrics) {
  if (!options.redis.has_value()) return nullptr;
  const int replicas = std::max(1, options.replicas);
  limits::LimiterOptions share = limiter;
  share.per_minute = limiter.per_minute / replicas;
  share.burst = std::max(1.0, limiter.burst / replicas);
  share.per_hour = limiter.per_hour / replicas;
  share.slow_start_wait = absl::ZeroDuration();  // see LocalQuotaStore::Admit
  // No paused-credentials hook: the pipeline's own limiters see every pause
  // too (AttemptLoop gives them each one) and count it once.
  auto fallback = std::make_unique<limits::LocalQuotaStore>(share, scheduler);

  limits::RedisQuotaStore::Options store;
  store.redis.address = *options.redis;
  store.redis.timeout = options.timeout;
  store.limits = {{limiter.per_minute / 60.0, limiter.burst}};
  if (limiter.per_hour > 0) {
    // The hourly bucket as the embedded limiter keeps it
    // (limits/credential_quota.cc): any 3600 s sees at most per_hour calls.
    const double burst =
        std::max(1.0, std::min(limiter.burst, limiter.per_hour / 60.0));
    store.limits.push_back(
        {std::max(limiter.per_hour - burst, 1.0) / 3600.0, burst});
  }
  return std::make_unique<limits::RedisQuotaStore>(
      std::move(store), std::move(fallback), scheduler,
      [quota_metrics](bool shared) { quota_metrics->Mode(shared); });
}

}  // namespace gitlab_gateway::pipeline
