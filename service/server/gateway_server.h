#ifndef GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVER_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/engine/byte_budget.h"
#include "service/engine/engine.h"
#include "service/gitlab/credentials.h"
#include "service/metrics/metrics.h"
#include "service/pipeline/pipeline.h"
#include "service/server/gateway_service.h"
#include "service/server/memory_trimmer.h"
#include "service/server/upstream_caller.h"

namespace prometheus {
class Exposer;
}

namespace gitlab_gateway::server {

// Everything the gateway needs to run; main.cc fills it from flags and env.
struct GatewayConfig {
  std::string listen_address = "0.0.0.0:50051";
  // Empty: no /metrics endpoint (tests read the registry directly).
  std::string metrics_address = "0.0.0.0:9090";
  std::string gitlab_url = "https://gitlab.com";
  // engine.protocol is derived from gitlab_url.
  engine::EngineOptions engine;
  // Credentials, timeouts, rate limits and retries; base_url is derived from
  // gitlab_url.
  UpstreamOptions upstream;
  // BatchExecute items per stream in flight or awaiting their write.
  int batch_window = 256;
  // BatchExecute bytes per stream: reading pauses while request bodies in
  // flight plus answers received or awaiting their write reach it, and
  // answers that do not fit fail with GATEWAY_OVERLOADED. At least
  // engine.max_response_bytes (2x by default).
  size_t stream_budget_bytes = size_t{128} << 20;
  // Every body the gateway buffers (requests and answers of every call);
  // beyond it calls and items fail with RESOURCE_EXHAUSTED
  // (GATEWAY_OVERLOADED). It also caps max_request_bytes.
  size_t memory_budget_bytes = size_t{1} << 30;
  PaginateOptions paginate;
  // Largest gRPC message accepted from callers.
  int max_request_bytes = 64 << 20;
  // Returning freed memory to the kernel after a burst of calls.
  MemoryTrimmer::Options trim;
  // --quota_redis_url: credentials' quotas shared by replicas in Redis.
  limits::SharedQuotaOptions shared_quota;
};

// The running gateway: engine, caller, gRPC server with health and
// reflection, and the Prometheus exposer. Tests build it directly with port 0.
//
// Start and Shutdown may be called from any thread; Shutdown once.
class GatewayServer {
 public:
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(
      GatewayConfig config);
  ~GatewayServer();

  // The bound ports (useful when the configured port was 0).
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  metrics::Metrics& metrics() { return *metrics_; }
  const MemoryTrimmer& trimmer() const { return *trimmer_; }
  engine::Engine& engine() { return *engine_; }
  // The gateway-wide budget over buffered bodies (tests read its counters).
  const engine::ByteBudget& memory_budget() const { return *memory_budget_; }

  // Health turns NOT_SERVING, new calls are refused, in-flight calls get up
  // to `grace` to finish and are then cancelled. Returns when all are done.
  void Shutdown(absl::Duration grace);

 private:
  GatewayServer() = default;

  int port_ = 0;
  int metrics_port_ = 0;
  bool shut_down_ = false;
  std::unique_ptr<metrics::Metrics> metrics_;
  // Before engine_: the engine reports its load to it until destroyed.
  std::unique_ptr<MemoryTrimmer> trimmer_;
  // Before engine_: transfers hold accounts on it until the engine is gone.
  std::shared_ptr<engine::ByteBudget> memory_budget_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<UpstreamCaller> caller_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVER_H_
