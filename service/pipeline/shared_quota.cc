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
  // No paused-credentials hook: the pipeline's own limiters see every pause
  // too (AttemptLoop gives them each one) and count it once.
  auto fallback = std::make_unique<limits::LocalQuotaStore>(share, scheduler);

  limits::RedisQuotaStore::Options store;
  store.redis.address = *options.redis;
  store.redis.timeout = options.timeout;
  store.limits = {{limiter.per_minute / 60.0, limiter.burst}};
  return std::make_unique<limits::RedisQuotaStore>(
      std::move(store), std::move(fallback), scheduler,
      [quota_metrics](bool shared) { quota_metrics->Mode(shared); });
}

}  // namespace gitlab_gateway::pipeline
