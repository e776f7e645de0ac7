#ifndef GITLAB_GATEWAY_SERVICE_METRICS_METRICS_H_
#define GITLAB_GATEWAY_SERVICE_METRICS_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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
// set, routes are GitLab's documented templates (gitlab/route_catalog, as
// many as the catalog holds) or generic templates (gitlab/route_template)
// capped at kMaxRoutes distinct values (then "other"), status codes are
// 100..599 or "other", callers are "anonymous", a known caller's name, or
// "other", refusal reasons are the gateway's own ErrorInfo reasons (capped at
// kMaxReasons, then "other").
class Metrics {
 public:
  // Distinct generic route labels; catalog templates do not count.
  static constexpr size_t kMaxRoutes = 500;
  static constexpr size_t kMaxReasons = 100;

  // `known_callers`: the caller names that get their own `caller` label
  // value (the callers file's names); any other authenticated name is
  // "other".
  explicit Metrics(std::vector<std::string> known_callers = {});

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

  // gRPC server metrics, go-grpc-prometheus style, plus `caller`.
  void RpcStarted(absl::string_view rpc_method, absl::string_view rpc_type,
                  absl::string_view caller = "anonymous");
  void RpcHandled(absl::string_view rpc_method, absl::string_view rpc_type,
                  int grpc_code, absl::Duration handling,
                  absl::string_view caller = "anonymous");

  // Replaces the known caller names (a reloaded callers file). Series
  // already exported keep their labels.
  void SetKnownCallers(std::vector<std::string> known_callers);
  // Says whether a name not known yet is a caller the gateway knows now
  // (the callers file and the policy reload: a caller added after start).
  // Such a name gets its own label from then on, up to kMaxCallerLabels
  // names in all (then "other"). Called on any thread, under a reader lock;
  // must not call into Metrics. SetCallerDirectory waits for lookups in
  // progress, so once SetCallerDirectory(nullptr) returns, what the old
  // directory pointed at may be destroyed.
  using CallerDirectory = std::function<bool(absl::string_view name)>;
  static constexpr size_t kMaxCallerLabels = 20000;
  void SetCallerDirectory(CallerDirectory directory)
      ABSL_LOCKS_EXCLUDED(mu_, directory_mu_);
  // The bounded `caller` label value for `caller`.
  std::string CallerLabel(absl::string_view caller) ABSL_LOCKS_EXCLUDED(mu_);

  // One call ended (an Execute, a BatchExecute item, a Paginate page: one
  // access-log line each), by RPC, caller and gRPC code.
  void CallFinished(absl::string_view rpc, absl::string_view caller,
                    int grpc_code);
  // A call refused by the gateway before anything went upstream, by its
  // ErrorInfo reason ("INVALID_PATH", "GATEWAY_OVERLOADED", ...).
  void CountRefusal(absl::string_view reason, absl::string_view caller);
  // An access-log record dropped because the writer fell behind.
  void CountAccessLogDropped();

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
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Counter>& refusals_;
  prometheus::Counter& access_log_dropped_;

  absl::Mutex mu_;
  // Family::Add builds a label map per call; cache the series we handed out.
  absl::flat_hash_map<std::string, UpstreamSeries> upstream_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Counter*> counters_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Histogram*> histograms_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> routes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> reasons_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> known_callers_ ABSL_GUARDED_BY(mu_);
  // Taken before mu_ when both are held.
  mutable absl::Mutex directory_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  CallerDirectory caller_directory_ ABSL_GUARDED_BY(directory_mu_);
};

// The canonical gRPC code name ("OK", "NOT_FOUND", ...) for a numeric code.
absl::string_view GrpcCodeName(int code);

}  // namespace gitlab_gateway::metrics

#endif  // GITLAB_GATEWAY_SERVICE_METRICS_METRICS_H_
