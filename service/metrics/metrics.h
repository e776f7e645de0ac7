#ifndef GITLAB_GATEWAY_SERVICE_METRICS_METRICS_H_
#define GITLAB_GATEWAY_SERVICE_METRICS_METRICS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace gitlab_gateway::metrics {

// The gateway's Prometheus registry and its few metric families, in one place.
// Every method may be called from any thread.
//
// Label values stay bounded whatever callers send: methods come from a fixed
// set, routes are templates (gitlab/route_template) capped at kMaxRoutes
// distinct values (then "other"), status codes are 100..599 or "other".
class Metrics {
 public:
  static constexpr size_t kMaxRoutes = 500;

  Metrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // One upstream exchange that got an HTTP answer.
  void ObserveUpstream(absl::string_view method, absl::string_view route,
                       int http_status, absl::Duration latency);
  // One upstream exchange that failed below HTTP (reason: ErrorInfo reason).
  void CountUpstreamFailure(absl::string_view method, absl::string_view route,
                            absl::string_view reason);
  // Body bytes of one exchange, by route template: `received` from GitLab
  // (buffered or streamed to a Download), `sent` to it (a request body or
  // an Upload). Zero counts are skipped.
  void CountBodyBytes(absl::string_view route, uint64_t received,
                      uint64_t sent);
  void SetEngineLoad(size_t in_flight, size_t queued);
  // An idle HTTP/1.x connection refused because it held unrequested bytes.
  void CountUncleanConnection();

  // Rate limiting and retries, labelled by credential class ("default" or
  // "caller"), never by token.
  void LimiterWait(absl::string_view credential_class, absl::Duration wait);
  void PausedCredentials(absl::string_view credential_class, int delta);
  void RetryScheduled(absl::string_view reason,
                      absl::string_view credential_class);
  void RetryDenied(absl::string_view credential_class);

  // BatchExecute items: in-flight gauge, outcomes by gRPC code, latency.
  void BatchItemStarted();
  void BatchItemDone(int grpc_code, absl::Duration latency);

  // gRPC server metrics, go-grpc-prometheus style.
  void RpcStarted(absl::string_view rpc_method, absl::string_view rpc_type);
  void RpcHandled(absl::string_view rpc_method, absl::string_view rpc_type,
                  int grpc_code, absl::Duration handling);

 private:
  struct UpstreamSeries {
    prometheus::Histogram* duration;
    prometheus::Counter* total;
  };
  std::string BoundedRoute(absl::string_view route)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The series cached under `key`, added with labels() on first use
  // (Family::Add builds a label map per call; the cache avoids it).
  prometheus::Counter& CounterFor(
      prometheus::Family<prometheus::Counter>& family, std::string key,
      absl::FunctionRef<prometheus::Labels()> labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  prometheus::Histogram& HistogramFor(
      prometheus::Family<prometheus::Histogram>& family, std::string key,
      absl::FunctionRef<prometheus::Labels()> labels,
      const prometheus::Histogram::BucketBoundaries& buckets)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>& upstream_duration_;
  prometheus::Family<prometheus::Counter>& upstream_total_;
  prometheus::Family<prometheus::Counter>& upstream_failures_;
  prometheus::Family<prometheus::Counter>& rate_limited_;
  prometheus::Family<prometheus::Counter>& received_bytes_;
  prometheus::Family<prometheus::Counter>& sent_bytes_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& queue_depth_;
  prometheus::Counter& unclean_connections_;
  prometheus::Family<prometheus::Histogram>& limiter_wait_;
  prometheus::Family<prometheus::Gauge>& paused_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& retries_denied_;
  prometheus::Gauge& batch_in_flight_;
  prometheus::Family<prometheus::Counter>& batch_items_;
  prometheus::Histogram& batch_item_duration_;
  prometheus::Family<prometheus::Counter>& rpc_started_;
  prometheus::Family<prometheus::Counter>& rpc_handled_;
  prometheus::Family<prometheus::Histogram>& rpc_handling_;

  absl::Mutex mu_;
  // Family::Add builds a label map per call; cache the series we handed out.
  absl::flat_hash_map<std::string, UpstreamSeries> upstream_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Counter*> counters_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Histogram*> histograms_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> routes_ ABSL_GUARDED_BY(mu_);
};

// The canonical gRPC code name ("OK", "NOT_FOUND", ...) for a numeric code.
absl::string_view GrpcCodeName(int code);

}  // namespace gitlab_gateway::metrics

#endif  // GITLAB_GATEWAY_SERVICE_METRICS_METRICS_H_
