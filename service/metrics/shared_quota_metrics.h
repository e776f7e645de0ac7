#ifndef GITLAB_GATEWAY_SERVICE_METRICS_SHARED_QUOTA_METRICS_H_
#define GITLAB_GATEWAY_SERVICE_METRICS_SHARED_QUOTA_METRICS_H_

#include <memory>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace gitlab_gateway::metrics {

// The shared quota's mode (--quota_redis_url), registered beside Metrics'
// families only when the gateway shares its quota through Redis:
//   gitlab_gateway_shared_quota_mode            1 shared in Redis, 0 local
//   gitlab_gateway_shared_quota_fallbacks_total times it fell back to local
// Any thread.
class SharedQuotaMetrics {
 public:
  explicit SharedQuotaMetrics(prometheus::Registry& registry);

  // Each change of mode (the store reports only changes).
  void Mode(bool shared);

 private:
  prometheus::Gauge& mode_;
  prometheus::Counter& fallbacks_;
};

}  // namespace gitlab_gateway::metrics

#endif  // GITLAB_GATEWAY_SERVICE_METRICS_SHARED_QUOTA_METRICS_H_
