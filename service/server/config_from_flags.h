#ifndef GITLAB_GATEWAY_SERVICE_SERVER_CONFIG_FROM_FLAGS_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_CONFIG_FROM_FLAGS_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "service/server/gateway_server.h"

namespace gitlab_gateway::server {

// The gateway's command-line flags as parsed (each flag falls back to its
// environment variable), before any check. The member defaults are the
// flags' defaults: main.cc declares its ABSL_FLAGs with them.
struct FlagValues {
  std::string listen = "0.0.0.0:50051";
  std::string metrics_listen = "0.0.0.0:9090";  // "" or "off": no /metrics
  std::string access_log = "stderr";  // "stderr" (or ""), a file, or "off"
  std::string gitlab_url = "https://gitlab.com";
  std::string token_file;
  std::string token_type = "private";
  std::string ca_file;
  // The gRPC port's TLS (empty: plaintext) and mTLS client CA bundle.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Callers and the SHA-256 of their bearer secrets; empty: none.
  std::string callers_file;
  // Plaintext grpc.health.v1-only port; empty: none.
  std::string health_listen;
  // One file per named credential (the file's name); see README: Security
  // model. Empty: none.
  std::string credentials_dir;
  // The caller policy (JSON gitlab.gateway.v1.Policy); empty: no rules.
  std::string policy_file;
  // Callers without a policy rule (anonymous ones too) may spend the default
  // token, as before policies existed. For local development.
  bool allow_anonymous_default_token = false;
  int max_in_flight = 64;
  int max_queue = 10000;
  int batch_window = 256;
  double rate_limit_per_minute = 2000;
  double rate_limit_burst = 100;
  double rate_limit_per_hour = 0;  // 0: no hourly limit
  int retry_max_attempts = 3;
  absl::Duration retry_base = absl::Milliseconds(100);
  absl::Duration retry_cap = absl::Seconds(5);
  double retry_budget_ratio = 0.2;
  int retry_budget_min = 3;
  int paginate_max_pages = 1000;
  int paginate_prefetch = 4;
  int max_response_mb = 64;
  int stream_budget_mb = 0;  // 0: 2 x max_response_mb
  int memory_budget_mb = 0;  // 0: 16 x max_response_mb
  int max_download_mb = 0;   // 0: unlimited
  int max_upload_mb = 0;     // 0: unlimited
  absl::Duration default_timeout = absl::Seconds(30);
  absl::Duration max_timeout = absl::Minutes(10);
  absl::Duration connect_timeout = absl::Seconds(10);
  int trim_after_burst = 1000;
  // Not part of GatewayConfig: main.cc applies it before any thread starts
  // (cpu_scheduling.h).
  bool sched_batch = true;
  // Not part of GatewayConfig (main.cc applies it on SIGTERM); checked here.
  absl::Duration shutdown_grace = absl::Seconds(25);

  // The quota shared by replicas in Redis (empty URL: embedded limiter
  // only). quota_replicas' default is k8s/base/hpa.yaml's minReplicas.
  std::string quota_redis_url;
  std::string quota_redis_password_file;
  absl::Duration quota_redis_timeout = absl::Milliseconds(50);
  int quota_replicas = 2;

  // Env GITLAB_TOKEN, used when token_file is empty; empty: none.
  std::string gitlab_token;
  // Env GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD: Redis' password when neither
  // the URL nor quota_redis_password_file gives one; empty: none.
  std::string quota_redis_password;
  // Names of the flags (without "--") whose value came from their
  // environment variable, so that an error names the variable too.
  absl::flat_hash_set<std::string> from_env;
};

// A flag and the environment variable it falls back to.
struct FlagEnv {
  const char* flag;
  const char* env;
};
// Every flag of FlagValues with its variable (main.cc fills `from_env` by it).
absl::Span<const FlagEnv> FlagEnvironment();

// Checks every value and builds the GatewayConfig, or fails with
// INVALID_ARGUMENT naming each flag that is out of range or inconsistent
// with another (and its variable when the value came from there), e.g.
// "--max_queue (env GITLAB_GATEWAY_MAX_QUEUE): must be at least 0, got -1".
// Nothing is clamped. Reads token_file, credentials_dir and policy_file (to
// refuse a bad one here; GatewayServer reads it again and watches it) when
// set; otherwise pure. Any thread.
absl::StatusOr<GatewayConfig> ConfigFromFlags(const FlagValues& flags);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_CONFIG_FROM_FLAGS_H_
