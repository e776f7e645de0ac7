#ifndef GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVER_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVER_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/auth/caller_identifier.h"
#include "service/auth/callers_file.h"
#include "service/auth/server_tls.h"
#include "service/engine/byte_budget.h"
#include "service/engine/engine.h"
#include "service/gitlab/credentials.h"
#include "service/log/access_log.h"
#include "service/metrics/metrics.h"
#include "service/pipeline/pipeline.h"
#include "service/server/call_recorder.h"
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
  // The access log (one JSON line per call): "stderr" (or ""), a file
  // appended to, or "off".
  std::string access_log = "stderr";
  // Access-log records waiting for the writer; beyond it they are dropped
  // (gitlab_gateway_access_log_dropped_total).
  size_t access_log_queue = 10000;
  // Caller names that get their own `caller` metric label value (the
  // callers file's names); other authenticated callers are "other".
  std::vector<std::string> known_callers;
  std::string gitlab_url = "https://gitlab.com";
  // engine.protocol is derived from gitlab_url.
  engine::EngineOptions engine;
  // Credentials, timeouts, rate limits and retries; base_url is derived from
  // gitlab_url; `policy` is built by Start from policy_file.
  UpstreamOptions upstream;
  // --policy_file: the caller policy, read at start (a bad file fails Start)
  // and every policy_poll_interval after; empty = no rules.
  std::string policy_file;
  absl::Duration policy_poll_interval = absl::Seconds(2);
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
  // Download body bytes per call (0 = unlimited); Upload's likewise.
  uint64_t max_download_bytes = 0;
  uint64_t max_upload_bytes = 0;
  // Largest gRPC message accepted from callers.
  int max_request_bytes = 64 << 20;
  // Returning freed memory to the kernel after a burst of calls.
  MemoryTrimmer::Options trim;
  // TLS on the gRPC port (plaintext when tls.cert_file is empty).
  auth::TlsOptions tls;
  // A second, plaintext port serving grpc.health.v1 and nothing else, for
  // probes that cannot speak TLS; empty: none.
  std::string health_listen_address;
  // Callers and the SHA-256 of their bearer secrets; empty: none (a bearer
  // is then refused). Re-read every callers_reload.
  std::string callers_file;
  absl::Duration callers_reload = absl::Seconds(5);
  // --quota_redis_url: credentials' quotas shared by replicas in Redis.
  limits::SharedQuotaOptions shared_quota;
};

// The credential names a policy may mention: "default" when there is a
// default token, and every name in --credentials_dir. Pure; any thread.
absl::flat_hash_set<std::string> CredentialNames(
    const UpstreamOptions& upstream);

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
  // The plaintext health port (0: none).
  int health_port() const { return health_port_; }
  // The callers file (null: none); tests await its reloads.
  const auth::CallersFile* callers() const { return callers_.get(); }
  metrics::Metrics& metrics() { return *metrics_; }
  // The reactors' way down (tests call it with a constructed auth::Caller).
  UpstreamCaller& upstream_caller() { return *caller_; }
  // The policy in force (tests wait for reloads on it); null without
  // policy_file.
  auth::PolicyStore* policy() { return policy_.get(); }
  const MemoryTrimmer& trimmer() const { return *trimmer_; }
  engine::Engine& engine() { return *engine_; }
  // The gateway-wide budget over buffered bodies (tests read its counters).
  const engine::ByteBudget& memory_budget() const { return *memory_budget_; }
  // The access log; null when off.
  log::AccessLog* access_log() { return access_log_.get(); }

  // Health turns NOT_SERVING, new calls are refused, in-flight calls get up
  // to `grace` to finish and are then cancelled. Returns when all are done.
  void Shutdown(absl::Duration grace);

 private:
  GatewayServer() = default;

  // The main gRPC server and the health-only one, with the caller
  // identifier the service asks at every RPC start.
  absl::Status StartGrpc(const GatewayConfig& config);
  absl::Status StartHealthPort(const std::string& address);

  int port_ = 0;
  int metrics_port_ = 0;
  int health_port_ = 0;
  bool shut_down_ = false;
  std::unique_ptr<metrics::Metrics> metrics_;
  // Outlive the pipeline: its completions record calls until it is gone.
  std::unique_ptr<log::AccessLog> access_log_;
  std::unique_ptr<CallRecorder> recorder_;
  // Before engine_: the engine reports its load to it until destroyed.
  std::unique_ptr<MemoryTrimmer> trimmer_;
  // Before engine_: transfers hold accounts on it until the engine is gone.
  std::shared_ptr<engine::ByteBudget> memory_budget_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::shared_ptr<auth::PolicyStore> policy_;
  std::unique_ptr<UpstreamCaller> caller_;
  // Before service_: every RPC start asks the identifier, which reads the
  // callers file.
  std::unique_ptr<auth::CallersFile> callers_;
  std::unique_ptr<auth::CallerIdentifier> identifier_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<grpc::Server> server_;
  // The health port answers every other method UNIMPLEMENTED through it
  // (gRPC also refuses to start a server without a callback method).
  std::unique_ptr<grpc::CallbackGenericService> health_fallback_;
  std::unique_ptr<grpc::Server> health_server_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVER_H_
