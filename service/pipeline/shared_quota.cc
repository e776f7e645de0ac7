#include "service/pipeline/shared_quota.h"

#include <algorithm>
#include <string>
#include <utility>

#include "service/limits/local_quota_store.h"

namespace gitlab_gateway::pipeline {

std::unique_ptr<limits::RedisQuotaStore> MakeSharedQuota(
    const limits::SharedQuotaOptions& options,
    const limits::LimiterOptions& limiter, limits::Scheduler* scheduler,
    metrics::Metrics* metrics, metrics::SharedQuotaMetrics* quota_metrics) {
  if (!options.redis.has_value()) return nullptr;
  const int replicas = std::max(1, options.replicas);
  limits::LimiterOptions share = limiter;
  share.per_minute = limiter.per_minute / replicas;
  share.burst = std::max(1.0, limiter.burst / replicas);
  auto fallback = std::make_unique<limits::LocalQuotaStore>(
      share, scheduler,
      [metrics](const std::string& credential_class, int delta) {
        metrics->PausedCredentials(credential_class, delta);
      });

  limits::RedisQuotaStore::Options store;
  store.redis.address = *options.redis;
  store.redis.timeout = options.timeout;
  store.limits = {{limiter.per_minute / 60.0, limiter.burst}};
  return std::make_unique<limits::RedisQuotaStore>(
      std::move(store), std::move(fallback), scheduler,
      [quota_metrics](bool shared) { quota_metrics->Mode(shared); });
}

}  // namespace gitlab_gateway::pipeline
