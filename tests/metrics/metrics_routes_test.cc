#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"
#include "service/gitlab/route_catalog.h"
#include "service/metrics/metrics.h"

namespace gitlab_gateway::metrics {
namespace {

// The distinct `route` label values of gitlab_gateway_upstream_requests_total.
absl::flat_hash_set<std::string> RouteLabels(const Metrics& metrics) {
  absl::flat_hash_set<std::string> routes;
  for (const prometheus::MetricFamily& family : metrics.registry()->Collect()) {
    if (family.name != "gitlab_gateway_upstream_requests_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == "route") routes.insert(label.value);
      }
    }
  }
  return routes;
}

// Catalog templates never count against the cap of generic labels, whether
// they come before or after the cap is reached; the label count is bounded
// by catalog + kMaxRoutes + "other".
TEST(MetricsRoutesTest, CapCoversTheCatalog) {
  const auto& catalog = gitlab::RouteCatalog::Documented();
  for (bool catalog_first : {true, false}) {
    SCOPED_TRACE(catalog_first ? "catalog first" : "generic first");
    Metrics metrics;
    auto observe_catalog = [&] {
      for (const std::string& tmpl : catalog.templates()) {
        metrics.ObserveUpstream("GET", tmpl, 200, absl::Milliseconds(1));
      }
    };
    if (catalog_first) observe_catalog();
    for (size_t i = 0; i < 2 * Metrics::kMaxRoutes; ++i) {
      metrics.ObserveUpstream("GET", absl::StrCat("/generic/:id/", i), 200,
                              absl::Milliseconds(1));
    }
    if (!catalog_first) observe_catalog();

    absl::flat_hash_set<std::string> routes = RouteLabels(metrics);
    size_t generic = 0;
    for (const std::string& route : routes) {
      if (!catalog.Contains(route) && route != "other") ++generic;
    }
    for (const std::string& tmpl : catalog.templates()) {
      EXPECT_TRUE(routes.contains(tmpl)) << tmpl;
    }
    EXPECT_EQ(generic, Metrics::kMaxRoutes);
    EXPECT_TRUE(routes.contains("other"));
    EXPECT_EQ(routes.size(),
              catalog.templates().size() + Metrics::kMaxRoutes + 1);
  }
}

}  // namespace
}  // namespace gitlab_gateway::metrics
