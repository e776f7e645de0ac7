#include "service/metrics/metrics.h"

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/gitlab/route_catalog.h"

namespace gitlab_gateway::metrics {
namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,  0.5,    1,     2.5,  5,     10,   30};
  return *buckets;
}

std::string StatusLabel(int http_status) {
  if (http_status < 100 || http_status > 599) return "other";
  return absl::StrCat(http_status);
}

absl::string_view MethodLabel(absl::string_view method) {
  for (absl::string_view known :
       {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
    if (method == known) return known;
  }
  return "other";
}

}  // namespace

absl::string_view GrpcCodeName(int code) {
  static constexpr absl::string_view kNames[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "UNKNOWN";
  return kNames[code];
}

Metrics::Metrics(std::vector<std::string> known_callers)
    : registry_(std::make_shared<prometheus::Registry>()),
      upstream_duration_(
          prometheus::BuildHistogram()
              .Name("gitlab_gateway_upstream_request_duration_seconds")
              .Help("GitLab request latency by method, route template and "
                    "HTTP status")
              .Register(*registry_)),
      upstream_total_(prometheus::BuildCounter()
                          .Name("gitlab_gateway_upstream_requests_total")
                          .Help("GitLab requests answered, by method, route "
                                "template and HTTP status")
                          .Register(*registry_)),
      upstream_failures_(
          prometheus::BuildCounter()
              .Name("gitlab_gateway_upstream_failures_total")
              .Help("GitLab requests that got no HTTP answer, by reason")
              .Register(*registry_)),
      rate_limited_(prometheus::BuildCounter()
                        .Name("gitlab_gateway_upstream_rate_limited_total")
                        .Help("429 answers from GitLab, by route template")
                        .Register(*registry_)),
      received_bytes_(
          prometheus::BuildCounter()
              .Name("gitlab_gateway_upstream_received_bytes_total")
              .Help("Body bytes received from GitLab, by route template")
              .Register(*registry_)),
      sent_bytes_(prometheus::BuildCounter()
                      .Name("gitlab_gateway_upstream_sent_bytes_total")
                      .Help("Body bytes sent to GitLab, by route template")
                      .Register(*registry_)),
      in_flight_(prometheus::BuildGauge()
                     .Name("gitlab_gateway_upstream_in_flight")
                     .Help("GitLab transfers handed to curl")
                     .Register(*registry_)
                     .Add({})),
      queue_depth_(prometheus::BuildGauge()
                       .Name("gitlab_gateway_upstream_queue_depth")
                       .Help("Requests waiting for an upstream slot")
                       .Register(*registry_)
                       .Add({})),
      unclean_connections_(
          prometheus::BuildCounter()
              .Name("gitlab_gateway_upstream_unclean_connections_total")
              .Help("Idle HTTP/1.x connections that held unrequested bytes "
                    "and were closed instead of reused")
              .Register(*registry_)
              .Add({})),
      limiter_wait_(prometheus::BuildHistogram()
                        .Name("gitlab_gateway_limiter_wait_seconds")
                        .Help("Time calls waited for their credential's rate "
                              "limiter")
                        .Register(*registry_)),
      paused_(prometheus::BuildGauge()
                  .Name("gitlab_gateway_paused_credentials")
                  .Help("Credentials paused after a 429 or an exhausted "
                        "quota")
                  .Register(*registry_)),
      retries_(prometheus::BuildCounter()
                   .Name("gitlab_gateway_retries_total")
                   .Help("Upstream retries scheduled, by reason")
                   .Register(*registry_)),
      retries_denied_(prometheus::BuildCounter()
                          .Name("gitlab_gateway_retries_denied_total")
                          .Help("Retries refused by the retry budget")
                          .Register(*registry_)),
      batch_in_flight_(prometheus::BuildGauge()
                           .Name("gitlab_gateway_batch_items_in_flight")
                           .Help("BatchExecute items dispatched and not yet "
                                 "completed, over all streams")
                           .Register(*registry_)
                           .Add({})),
      batch_items_(prometheus::BuildCounter()
                       .Name("gitlab_gateway_batch_items_total")
                       .Help("BatchExecute items completed, by gRPC code")
                       .Register(*registry_)),
      batch_item_duration_(
          prometheus::BuildHistogram()
              .Name("gitlab_gateway_batch_item_duration_seconds")
              .Help("BatchExecute item latency, dispatch to completion")
              .Register(*registry_)
              .Add({}, LatencyBuckets())),
      rpc_started_(prometheus::BuildCounter()
                       .Name("grpc_server_started_total")
                       .Help("RPCs started on the server")
                       .Register(*registry_)),
      rpc_handled_(prometheus::BuildCounter()
                       .Name("grpc_server_handled_total")
                       .Help("RPCs completed on the server, by code")
                       .Register(*registry_)),
      rpc_handling_(prometheus::BuildHistogram()
                        .Name("grpc_server_handling_seconds")
                        .Help("RPC handling time until the server finished")
                        .Register(*registry_)),
      calls_(prometheus::BuildCounter()
                 .Name("gitlab_gateway_calls_total")
                 .Help("Calls ended (Execute, BatchExecute items, Paginate "
                       "pages: one access-log line each), by RPC, caller "
                       "and gRPC code")
                 .Register(*registry_)),
      refusals_(prometheus::BuildCounter()
                    .Name("gitlab_gateway_refusals_total")
                    .Help("Calls the gateway refused before anything went "
                          "upstream, by ErrorInfo reason and caller")
                    .Register(*registry_)),
      access_log_dropped_(
          prometheus::BuildCounter()
              .Name("gitlab_gateway_access_log_dropped_total")
              .Help("Access-log records dropped because the writer fell "
                    "behind")
              .Register(*registry_)
              .Add({})) {
  SetKnownCallers(std::move(known_callers));
  // Build the route catalog now, at start, not on the first call.
  gitlab::RouteCatalog::Documented();
}

void Metrics::SetKnownCallers(std::vector<std::string> known_callers) {
  absl::MutexLock lock(&mu_);
  known_callers_.clear();
  for (std::string& name : known_callers) {
    known_callers_.insert(std::move(name));
  }
}

void Metrics::SetCallerDirectory(CallerDirectory directory) {
  absl::WriterMutexLock lock(&directory_mu_);  // waits for lookups
  caller_directory_ = std::move(directory);
}

std::string Metrics::CallerLabel(absl::string_view caller) {
  if (caller == "anonymous") return "anonymous";
  {
    absl::MutexLock lock(&mu_);
    if (known_callers_.contains(caller)) return std::string(caller);
    if (known_callers_.size() >= kMaxCallerLabels) return "other";
  }
  // Looked up outside mu_ (the directory takes the callers file's and the
  // policy's own locks), under the reader lock that keeps what it points
  // at alive.
  {
    absl::ReaderMutexLock lock(&directory_mu_);
    if (caller_directory_ == nullptr || !caller_directory_(caller)) {
      return "other";
    }
  }
  absl::MutexLock lock(&mu_);
  if (known_callers_.size() >= kMaxCallerLabels) return "other";
  known_callers_.insert(std::string(caller));
  return std::string(caller);
}

void Metrics::CallFinished(absl::string_view rpc, absl::string_view caller,
                           int grpc_code) {
  std::string who = CallerLabel(caller);
  absl::string_view code = GrpcCodeName(grpc_code);
  absl::MutexLock lock(&mu_);
  CounterFor(calls_, absl::StrCat("call ", rpc, " ", who, " ", code), [&] {
    return prometheus::Labels{{"rpc", std::string(rpc)},
                              {"caller", who},
                              {"grpc_code", std::string(code)}};
  }).Increment();
}

void Metrics::CountRefusal(absl::string_view reason, absl::string_view caller) {
  std::string who = CallerLabel(caller);
  absl::MutexLock lock(&mu_);
  std::string bounded(reason);
  if (!reasons_.contains(bounded)) {
    if (reasons_.size() >= kMaxReasons) {
      bounded = "other";
    } else {
      reasons_.insert(bounded);
    }
  }
  CounterFor(refusals_, absl::StrCat("refused ", bounded, " ", who), [&] {
    return prometheus::Labels{{"reason", bounded}, {"caller", who}};
  }).Increment();
}

void Metrics::CountAccessLogDropped() { access_log_dropped_.Increment(); }

std::string Metrics::BoundedRoute(absl::string_view route) {
  // GitLab's documented templates are bounded by the catalog; the cap is
  // for the generic labels of paths outside it.
  if (gitlab::RouteCatalog::Documented().Contains(route)) {
    return std::string(route);
  }
  auto it = routes_.find(route);
  if (it != routes_.end()) return std::string(route);
  if (routes_.size() >= kMaxRoutes) return "other";
  routes_.emplace(route);
  return std::string(route);
}

prometheus::Counter& Metrics::CounterFor(
    prometheus::Family<prometheus::Counter>& family, std::string key,
    absl::FunctionRef<prometheus::Labels()> labels) {
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    it = counters_.emplace(std::move(key), &family.Add(labels())).first;
  }
  return *it->second;
}

prometheus::Histogram& Metrics::HistogramFor(
    prometheus::Family<prometheus::Histogram>& family, std::string key,
    absl::FunctionRef<prometheus::Labels()> labels,
    const prometheus::Histogram::BucketBoundaries& buckets) {
  auto it = histograms_.find(key);
  if (it == histograms_.end()) {
    it = histograms_.emplace(std::move(key), &family.Add(labels(), buckets))
             .first;
  }
  return *it->second;
}

void Metrics::ObserveUpstream(absl::string_view method, absl::string_view route,
                              int http_status, absl::Duration latency) {
  absl::string_view method_label = MethodLabel(method);
  std::string status = StatusLabel(http_status);
  absl::MutexLock lock(&mu_);
  std::string bounded = BoundedRoute(route);
  std::string key = absl::StrCat(method_label, " ", bounded, " ", status);
  auto it = upstream_.find(key);
  if (it == upstream_.end()) {
    prometheus::Labels labels{{"method", std::string(method_label)},
                              {"route", bounded},
                              {"code", status}};
    it = upstream_
             .emplace(key, UpstreamSeries{
                               &upstream_duration_.Add(labels, LatencyBuckets()),
                               &upstream_total_.Add(labels)})
             .first;
  }
  it->second.duration->Observe(absl::ToDoubleSeconds(latency));
  it->second.total->Increment();
  if (http_status == 429) {
    CounterFor(rate_limited_, absl::StrCat("429 ", bounded), [&] {
      return prometheus::Labels{{"route", bounded}};
    }).Increment();
  }
}

void Metrics::CountBodyBytes(absl::string_view route, uint64_t received,
                             uint64_t sent) {
  if (received == 0 && sent == 0) return;
  absl::MutexLock lock(&mu_);
  std::string bounded = BoundedRoute(route);
  auto labels = [&] { return prometheus::Labels{{"route", bounded}}; };
  if (received > 0) {
    CounterFor(received_bytes_, absl::StrCat("rx ", bounded), labels)
        .Increment(static_cast<double>(received));
  }
  if (sent > 0) {
    CounterFor(sent_bytes_, absl::StrCat("tx ", bounded), labels)
        .Increment(static_cast<double>(sent));
  }
}

void Metrics::CountUpstreamFailure(absl::string_view method,
                                   absl::string_view route,
                                   absl::string_view reason) {
  absl::string_view method_label = MethodLabel(method);
  absl::MutexLock lock(&mu_);
  std::string bounded = BoundedRoute(route);
  CounterFor(upstream_failures_,
             absl::StrCat("fail ", method_label, " ", bounded, " ", reason),
             [&] {
               return prometheus::Labels{{"method", std::string(method_label)},
                                         {"route", bounded},
                                         {"reason", std::string(reason)}};
             })
      .Increment();
}

void Metrics::SetEngineLoad(size_t in_flight, size_t queued) {
  in_flight_.Set(static_cast<double>(in_flight));
  queue_depth_.Set(static_cast<double>(queued));
}

namespace {

const prometheus::Histogram::BucketBoundaries& WaitBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *buckets;
}

// Credential classes are a fixed set; anything else folds into "other".
std::string ClassLabel(absl::string_view credential_class) {
  return credential_class == "default" || credential_class == "caller"
             ? std::string(credential_class)
             : "other";
}

}  // namespace

void Metrics::LimiterWait(absl::string_view credential_class,
                          absl::Duration wait) {
  std::string cls = ClassLabel(credential_class);
  prometheus::Histogram* series;
  {
    absl::MutexLock lock(&mu_);
    series = &HistogramFor(
        limiter_wait_, absl::StrCat("wait ", cls),
        [&] { return prometheus::Labels{{"credential_class", cls}}; },
        WaitBuckets());
  }
  series->Observe(absl::ToDoubleSeconds(std::max(wait, absl::ZeroDuration())));
}

void Metrics::PausedCredentials(absl::string_view credential_class, int delta) {
  paused_.Add({{"credential_class", ClassLabel(credential_class)}})
      .Increment(delta);
}

void Metrics::RetryScheduled(absl::string_view reason,
                             absl::string_view credential_class) {
  std::string cls = ClassLabel(credential_class);
  absl::MutexLock lock(&mu_);
  CounterFor(retries_, absl::StrCat("retry ", reason, " ", cls), [&] {
    return prometheus::Labels{{"reason", std::string(reason)},
                              {"credential_class", cls}};
  }).Increment();
}

void Metrics::RetryDenied(absl::string_view credential_class) {
  retries_denied_.Add({{"credential_class", ClassLabel(credential_class)}})
      .Increment();
}

void Metrics::CountUncleanConnection() { unclean_connections_.Increment(); }

void Metrics::BatchItemStarted() { batch_in_flight_.Increment(); }

void Metrics::BatchItemDone(int grpc_code, absl::Duration latency) {
  batch_in_flight_.Decrement();
  batch_item_duration_.Observe(absl::ToDoubleSeconds(latency));
  absl::string_view code = GrpcCodeName(grpc_code);
  absl::MutexLock lock(&mu_);
  CounterFor(batch_items_, absl::StrCat("batch ", code), [&] {
    return prometheus::Labels{{"grpc_code", std::string(code)}};
  }).Increment();
}

namespace {

prometheus::Labels RpcLabels(absl::string_view rpc_method,
                             absl::string_view rpc_type) {
  return {{"grpc_service", "gitlab.gateway.v1.Gateway"},
          {"grpc_method", std::string(rpc_method)},
          {"grpc_type", std::string(rpc_type)}};
}

}  // namespace

void Metrics::RpcStarted(absl::string_view rpc_method,
                         absl::string_view rpc_type, absl::string_view caller) {
  std::string who = CallerLabel(caller);
  absl::MutexLock lock(&mu_);
  CounterFor(rpc_started_, absl::StrCat("start ", rpc_method, " ", who), [&] {
    prometheus::Labels labels = RpcLabels(rpc_method, rpc_type);
    labels.emplace("caller", who);
    return labels;
  }).Increment();
}

void Metrics::RpcHandled(absl::string_view rpc_method,
                         absl::string_view rpc_type, int grpc_code,
                         absl::Duration handling, absl::string_view caller) {
  std::string who = CallerLabel(caller);
  absl::string_view code = GrpcCodeName(grpc_code);
  absl::MutexLock lock(&mu_);
  CounterFor(rpc_handled_,
             absl::StrCat("handled ", rpc_method, " ", code, " ", who), [&] {
               prometheus::Labels labels = RpcLabels(rpc_method, rpc_type);
               labels.emplace("grpc_code", std::string(code));
               labels.emplace("caller", who);
               return labels;
             })
      .Increment();
  HistogramFor(
      rpc_handling_, absl::StrCat("handling ", rpc_method, " ", who),
      [&] {
        prometheus::Labels labels = RpcLabels(rpc_method, rpc_type);
        labels.emplace("caller", who);
        return labels;
      },
      LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(handling));
}

}  // namespace gitlab_gateway::metrics
