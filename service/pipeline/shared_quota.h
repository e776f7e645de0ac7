#ifndef GITLAB_GATEWAY_SERVICE_PIPELINE_SHARED_QUOTA_H_
#define GITLAB_GATEWAY_SERVICE_PIPELINE_SHARED_QUOTA_H_

#include <memory>

#include "service/limits/credential_limiters.h"
#include "service/limits/redis_quota_store.h"
#include "service/limits/scheduler.h"
#include "service/metrics/shared_quota_metrics.h"

namespace gitlab_gateway::pipeline {

// The Redis-shared quota for `options.redis`, or nullptr when unset. Its
// limits are `limiter`'s; its fallback is a local store at `limiter` /
// options.replicas (rate and burst, burst at least 1). `quota_metrics`
// (not null when options.redis is set) follows its mode. Any thread.
std::unique_ptr<limits::RedisQuotaStore> MakeSharedQuota(
    const limits::SharedQuotaOptions& options,
    const limits::LimiterOptions& limiter, limits::Scheduler* scheduler,
    metrics::SharedQuotaMetrics* quota_metrics);

}  // namespace gitlab_gateway::pipeline

#endif  // GITLAB_GATEWAY_SERVICE_PIPELINE_SHARED_QUOTA_H_
