#include "service/metrics/shared_quota_metrics.h"

namespace gitlab_gateway::metrics {

SharedQuotaMetrics::SharedQuotaMetrics(prometheus::Registry& registry)
    : mode_(prometheus::BuildGauge()
                .Name("gitlab_gateway_shared_quota_mode")
                .Help("1 while credential quotas are shared through Redis, 0 "
                      "while this replica uses its local share (Redis slow or "
                      "down)")
                .Register(registry)
                .Add({})),
      fallbacks_(prometheus::BuildCounter()
                     .Name("gitlab_gateway_shared_quota_fallbacks_total")
                     .Help("Times the shared quota fell back to the local "
                           "share because Redis was slow or down")
                     .Register(registry)
                     .Add({})) {}

void SharedQuotaMetrics::Mode(bool shared) {
  mode_.Set(shared ? 1 : 0);
  if (!shared) fallbacks_.Increment();
}

}  // namespace gitlab_gateway::metrics
