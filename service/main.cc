// gitlab-gateway: flags and env -> GatewayConfig -> GatewayServer; waits for
// SIGTERM/SIGINT, then drains. Nothing else lives here.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/server/config_from_flags.h"
#include "service/server/cpu_scheduling.h"
#include "service/server/gateway_server.h"
#include "service/server/log.h"
#include "service/usage.h"

namespace {

// Flag defaults come from the environment, so containers configure by env and
// an explicit flag still wins.
std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// A malformed value is a configuration error, never silently the default:
// the process stops before anything starts, naming the variable.
template <typename T, typename Parse>
T EnvParsedOr(const char* name, T fallback, Parse parse, const char* expected) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  T value;
  if (parse(text, &value)) return value;
  std::fprintf(stderr, "gitlab-gateway: env %s: must be %s\n", name, expected);
  std::exit(2);
}

int EnvIntOr(const char* name, int fallback) {
  return EnvParsedOr(
      name, fallback,
      [](const char* text, int* out) { return absl::SimpleAtoi(text, out); },
      "an integer");
}

double EnvDoubleOr(const char* name, double fallback) {
  return EnvParsedOr(
      name, fallback,
      [](const char* text, double* out) { return absl::SimpleAtod(text, out); },
      "a number");
}

bool EnvBoolOr(const char* name, bool fallback) {
  return EnvParsedOr(
      name, fallback,
      [](const char* text, bool* out) { return absl::SimpleAtob(text, out); },
      "true or false");
}

absl::Duration EnvDurationOr(const char* name, absl::Duration fallback) {
  return EnvParsedOr(
      name, fallback,
      [](const char* text, absl::Duration* out) {
        return absl::ParseDuration(text, out);
      },
      "a duration like 30s or 500ms");
}

// The flags' defaults, in one place (tests build configs from them too).
const gitlab_gateway::server::FlagValues& Defaults() {
  static const auto* defaults = new gitlab_gateway::server::FlagValues();
  return *defaults;
}

}  // namespace

ABSL_FLAG(std::string, listen,
          EnvOr("GITLAB_GATEWAY_LISTEN", Defaults().listen),
          "gRPC listen address [env GITLAB_GATEWAY_LISTEN]");
ABSL_FLAG(std::string, metrics_listen,
          EnvOr("GITLAB_GATEWAY_METRICS_LISTEN", Defaults().metrics_listen),
          "Prometheus /metrics listen address; empty or \"off\" disables "
          "[env GITLAB_GATEWAY_METRICS_LISTEN]");
ABSL_FLAG(std::string, access_log,
          EnvOr("GITLAB_GATEWAY_ACCESS_LOG", Defaults().access_log),
          "access log, one JSON line per call: stderr, a file path (appended "
          "to), or off [env GITLAB_GATEWAY_ACCESS_LOG]");
ABSL_FLAG(std::string, gitlab_url, EnvOr("GITLAB_URL", Defaults().gitlab_url),
          "GitLab base URL [env GITLAB_URL]");
ABSL_FLAG(std::string, token_file,
          EnvOr("GITLAB_TOKEN_FILE", Defaults().token_file),
          "file holding the default GitLab token (else env GITLAB_TOKEN) "
          "[env GITLAB_TOKEN_FILE]");
ABSL_FLAG(std::string, token_type,
          EnvOr("GITLAB_TOKEN_TYPE", Defaults().token_type),
          "type of the default token: private, oauth or job "
          "[env GITLAB_TOKEN_TYPE]");
ABSL_FLAG(std::string, ca_file, EnvOr("GITLAB_CA_FILE", Defaults().ca_file),
          "CA bundle for GitLab's TLS certificate; empty = system store "
          "[env GITLAB_CA_FILE]");
ABSL_FLAG(std::string, tls_cert_file,
          EnvOr("GITLAB_GATEWAY_TLS_CERT_FILE", Defaults().tls_cert_file),
          "PEM certificate chain of the gRPC port; empty = plaintext; "
          "re-read when it changes [env GITLAB_GATEWAY_TLS_CERT_FILE]");
ABSL_FLAG(
    std::string, tls_key_file,
    EnvOr("GITLAB_GATEWAY_TLS_KEY_FILE", Defaults().tls_key_file),
    "PEM private key of --tls_cert_file [env GITLAB_GATEWAY_TLS_KEY_FILE]");
ABSL_FLAG(std::string, tls_client_ca_file,
          EnvOr("GITLAB_GATEWAY_TLS_CLIENT_CA_FILE",
                Defaults().tls_client_ca_file),
          "PEM CA bundle: callers must present a client certificate it "
          "signed (mTLS); the caller is its URI SAN, else DNS SAN, else CN "
          "[env GITLAB_GATEWAY_TLS_CLIENT_CA_FILE]");
ABSL_FLAG(std::string, callers_file,
          EnvOr("GITLAB_GATEWAY_CALLERS_FILE", Defaults().callers_file),
          "callers and the SHA-256 of their bearer secrets, one \"name "
          "sha256hex\" per line; re-read when it changes "
          "[env GITLAB_GATEWAY_CALLERS_FILE]");
ABSL_FLAG(
    std::string, health_listen,
    EnvOr("GITLAB_GATEWAY_HEALTH_LISTEN", Defaults().health_listen),
    "plaintext address serving only grpc.health.v1 (probes when the "
    "gRPC port speaks TLS); empty = none [env GITLAB_GATEWAY_HEALTH_LISTEN]");
ABSL_FLAG(std::string, credentials_dir,
          EnvOr("GITLAB_GATEWAY_CREDENTIALS_DIR", Defaults().credentials_dir),
          "directory of named GitLab credentials, one file per name holding "
          "one token (prefix oauth:, private: or job:, else --token_type); "
          "requests pick one with credential_name "
          "[env GITLAB_GATEWAY_CREDENTIALS_DIR]");
ABSL_FLAG(std::string, policy_file,
          EnvOr("GITLAB_GATEWAY_POLICY_FILE", Defaults().policy_file),
          "caller policy (JSON gitlab.gateway.v1.Policy, reloaded on change): "
          "which caller may spend which credential on what "
          "[env GITLAB_GATEWAY_POLICY_FILE]");
ABSL_FLAG(bool, allow_anonymous_default_token,
          EnvBoolOr("GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN",
                    Defaults().allow_anonymous_default_token),
          "let callers without a policy rule, anonymous ones included, spend "
          "the default token (local development only) "
          "[env GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN]");
ABSL_FLAG(int, max_in_flight,
          EnvIntOr("GITLAB_GATEWAY_MAX_IN_FLIGHT", Defaults().max_in_flight),
          "upstream transfers at once [env GITLAB_GATEWAY_MAX_IN_FLIGHT]");
ABSL_FLAG(int, max_queue,
          EnvIntOr("GITLAB_GATEWAY_MAX_QUEUE", Defaults().max_queue),
          "requests waiting for an upstream slot before RESOURCE_EXHAUSTED "
          "[env GITLAB_GATEWAY_MAX_QUEUE]");
ABSL_FLAG(int, batch_window,
          EnvIntOr("GITLAB_GATEWAY_BATCH_WINDOW", Defaults().batch_window),
          "BatchExecute items per stream in flight or awaiting their write; "
          "reading pauses beyond it [env GITLAB_GATEWAY_BATCH_WINDOW]");
ABSL_FLAG(double, rate_limit_per_minute,
          EnvDoubleOr("GITLAB_GATEWAY_RATE_LIMIT_PER_MINUTE",
                      Defaults().rate_limit_per_minute),
          "calls per minute per credential (GitLab.com allows 2000); 0 "
          "disables [env GITLAB_GATEWAY_RATE_LIMIT_PER_MINUTE]");
ABSL_FLAG(
    double, rate_limit_burst,
    EnvDoubleOr("GITLAB_GATEWAY_RATE_LIMIT_BURST", Defaults().rate_limit_burst),
    "token bucket burst per credential [env GITLAB_GATEWAY_RATE_LIMIT_BURST]");
ABSL_FLAG(double, rate_limit_per_hour,
          EnvDoubleOr("GITLAB_GATEWAY_RATE_LIMIT_PER_HOUR",
                      Defaults().rate_limit_per_hour),
          "sustained calls per hour per credential, enforced beside the "
          "per-minute bucket; 0 disables, else at least 60 "
          "[env GITLAB_GATEWAY_RATE_LIMIT_PER_HOUR]");
ABSL_FLAG(int, retry_max_attempts,
          EnvIntOr("GITLAB_GATEWAY_RETRY_MAX_ATTEMPTS",
                   Defaults().retry_max_attempts),
          "attempts per call including the first; 1 disables retries "
          "[env GITLAB_GATEWAY_RETRY_MAX_ATTEMPTS]");
ABSL_FLAG(absl::Duration, retry_base,
          EnvDurationOr("GITLAB_GATEWAY_RETRY_BASE", Defaults().retry_base),
          "backoff base (full jitter) [env GITLAB_GATEWAY_RETRY_BASE]");
ABSL_FLAG(absl::Duration, retry_cap,
          EnvDurationOr("GITLAB_GATEWAY_RETRY_CAP", Defaults().retry_cap),
          "backoff cap [env GITLAB_GATEWAY_RETRY_CAP]");
ABSL_FLAG(double, retry_budget_ratio,
          EnvDoubleOr("GITLAB_GATEWAY_RETRY_BUDGET_RATIO",
                      Defaults().retry_budget_ratio),
          "retries in progress at most this share of active calls "
          "[env GITLAB_GATEWAY_RETRY_BUDGET_RATIO]");
ABSL_FLAG(int, retry_budget_min,
          EnvIntOr("GITLAB_GATEWAY_RETRY_BUDGET_MIN",
                   Defaults().retry_budget_min),
          "retries always allowed in progress, whatever the ratio "
          "[env GITLAB_GATEWAY_RETRY_BUDGET_MIN]");
ABSL_FLAG(int, paginate_max_pages,
          EnvIntOr("GITLAB_GATEWAY_PAGINATE_MAX_PAGES",
                   Defaults().paginate_max_pages),
          "hard cap on pages per Paginate call [env "
          "GITLAB_GATEWAY_PAGINATE_MAX_PAGES]");
ABSL_FLAG(int, paginate_prefetch,
          EnvIntOr("GITLAB_GATEWAY_PAGINATE_PREFETCH",
                   Defaults().paginate_prefetch),
          "offset pages fetched ahead when GitLab reports totals "
          "[env GITLAB_GATEWAY_PAGINATE_PREFETCH]");
ABSL_FLAG(
    int, max_response_mb,
    EnvIntOr("GITLAB_GATEWAY_MAX_RESPONSE_MB", Defaults().max_response_mb),
    "largest GitLab response body, MiB [env GITLAB_GATEWAY_MAX_RESPONSE_MB]");
ABSL_FLAG(int, stream_budget_mb,
          EnvIntOr("GITLAB_GATEWAY_STREAM_BUDGET_MB",
                   Defaults().stream_budget_mb),
          "BatchExecute MiB per stream: reading pauses while request bodies "
          "in flight plus unwritten answers reach it; answers beyond it fail "
          "with GATEWAY_OVERLOADED; 0 = 2 x max_response_mb "
          "[env GITLAB_GATEWAY_STREAM_BUDGET_MB]");
ABSL_FLAG(int, memory_budget_mb,
          EnvIntOr("GITLAB_GATEWAY_MEMORY_BUDGET_MB",
                   Defaults().memory_budget_mb),
          "MiB of request and response bodies the gateway buffers at once; "
          "beyond it calls fail with RESOURCE_EXHAUSTED (GATEWAY_OVERLOADED); "
          "0 = 16 x max_response_mb [env GITLAB_GATEWAY_MEMORY_BUDGET_MB]");
ABSL_FLAG(int, max_download_mb,
          EnvIntOr("GITLAB_GATEWAY_MAX_DOWNLOAD_MB",
                   Defaults().max_download_mb),
          "largest body one Download streams, MiB; 0 = unlimited "
          "[env GITLAB_GATEWAY_MAX_DOWNLOAD_MB]");
ABSL_FLAG(int, max_upload_mb,
          EnvIntOr("GITLAB_GATEWAY_MAX_UPLOAD_MB", Defaults().max_upload_mb),
          "largest body one Upload streams, MiB; 0 = unlimited "
          "[env GITLAB_GATEWAY_MAX_UPLOAD_MB]");
ABSL_FLAG(absl::Duration, default_timeout,
          EnvDurationOr("GITLAB_GATEWAY_DEFAULT_TIMEOUT",
                        Defaults().default_timeout),
          "call timeout when neither Request.timeout nor the RPC deadline is "
          "set [env GITLAB_GATEWAY_DEFAULT_TIMEOUT]");
ABSL_FLAG(absl::Duration, max_timeout,
          EnvDurationOr("GITLAB_GATEWAY_MAX_TIMEOUT", Defaults().max_timeout),
          "upper bound for Request.timeout [env GITLAB_GATEWAY_MAX_TIMEOUT]");
ABSL_FLAG(absl::Duration, connect_timeout,
          EnvDurationOr("GITLAB_GATEWAY_CONNECT_TIMEOUT",
                        Defaults().connect_timeout),
          "TCP+TLS connect timeout [env GITLAB_GATEWAY_CONNECT_TIMEOUT]");
ABSL_FLAG(int, trim_after_burst,
          EnvIntOr("GITLAB_GATEWAY_TRIM_AFTER_BURST",
                   Defaults().trim_after_burst),
          "after this many calls were in flight or queued at once, return "
          "freed memory to the kernel once the gateway is idle again; 0 "
          "disables [env GITLAB_GATEWAY_TRIM_AFTER_BURST]");
ABSL_FLAG(bool, sched_batch,
          EnvBoolOr("GITLAB_GATEWAY_SCHED_BATCH", Defaults().sched_batch),
          "run every gateway thread but the engine's under Linux "
          "SCHED_BATCH: a woken thread does not preempt the running one, so "
          "hand-offs between gRPC and the engine are batched "
          "(bench/README.md) "
          "[env GITLAB_GATEWAY_SCHED_BATCH]");
ABSL_FLAG(absl::Duration, shutdown_grace,
          EnvDurationOr("GITLAB_GATEWAY_SHUTDOWN_GRACE",
                        Defaults().shutdown_grace),
          "on SIGTERM, how long in-flight calls may finish "
          "[env GITLAB_GATEWAY_SHUTDOWN_GRACE]");

ABSL_FLAG(std::string, quota_redis_url,
          EnvOr("GITLAB_GATEWAY_QUOTA_REDIS_URL", Defaults().quota_redis_url),
          "redis://[:password@]host:port/db: share each credential's quota "
          "with every replica through Redis; empty = this replica's own "
          "limiter [env GITLAB_GATEWAY_QUOTA_REDIS_URL]");
ABSL_FLAG(std::string, quota_redis_password_file,
          EnvOr("GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD_FILE",
                Defaults().quota_redis_password_file),
          "file holding Redis' password (else env "
          "GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD, else the URL's) "
          "[env GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD_FILE]");
ABSL_FLAG(absl::Duration, quota_redis_timeout,
          EnvDurationOr("GITLAB_GATEWAY_QUOTA_REDIS_TIMEOUT",
                        Defaults().quota_redis_timeout),
          "a Redis answer later than this sends the replica to its local "
          "share until Redis answers in time again "
          "[env GITLAB_GATEWAY_QUOTA_REDIS_TIMEOUT]");
ABSL_FLAG(int, quota_replicas,
          EnvIntOr("GITLAB_GATEWAY_QUOTA_REPLICAS", Defaults().quota_replicas),
          "replicas sharing the quota: without Redis each uses limit / this "
          "(default: the HPA's minReplicas in k8s/base) "
          "[env GITLAB_GATEWAY_QUOTA_REPLICAS]");

namespace {

// The parsed flags, and which of them came from their environment variable:
// set there (non-empty) while the flag still holds its default, which is the
// variable's value (a flag restating that value counts as the variable).
gitlab_gateway::server::FlagValues ReadFlags() {
  gitlab_gateway::server::FlagValues flags;
  flags.listen = absl::GetFlag(FLAGS_listen);
  flags.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  flags.access_log = absl::GetFlag(FLAGS_access_log);
  flags.gitlab_url = absl::GetFlag(FLAGS_gitlab_url);
  flags.token_file = absl::GetFlag(FLAGS_token_file);
  flags.token_type = absl::GetFlag(FLAGS_token_type);
  flags.ca_file = absl::GetFlag(FLAGS_ca_file);
  flags.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  flags.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  flags.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  flags.callers_file = absl::GetFlag(FLAGS_callers_file);
  flags.health_listen = absl::GetFlag(FLAGS_health_listen);
  flags.credentials_dir = absl::GetFlag(FLAGS_credentials_dir);
  flags.policy_file = absl::GetFlag(FLAGS_policy_file);
  flags.allow_anonymous_default_token =
      absl::GetFlag(FLAGS_allow_anonymous_default_token);
  flags.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  flags.max_queue = absl::GetFlag(FLAGS_max_queue);
  flags.batch_window = absl::GetFlag(FLAGS_batch_window);
  flags.rate_limit_per_minute = absl::GetFlag(FLAGS_rate_limit_per_minute);
  flags.rate_limit_burst = absl::GetFlag(FLAGS_rate_limit_burst);
  flags.rate_limit_per_hour = absl::GetFlag(FLAGS_rate_limit_per_hour);
  flags.retry_max_attempts = absl::GetFlag(FLAGS_retry_max_attempts);
  flags.retry_base = absl::GetFlag(FLAGS_retry_base);
  flags.retry_cap = absl::GetFlag(FLAGS_retry_cap);
  flags.retry_budget_ratio = absl::GetFlag(FLAGS_retry_budget_ratio);
  flags.retry_budget_min = absl::GetFlag(FLAGS_retry_budget_min);
  flags.paginate_max_pages = absl::GetFlag(FLAGS_paginate_max_pages);
  flags.paginate_prefetch = absl::GetFlag(FLAGS_paginate_prefetch);
  flags.max_response_mb = absl::GetFlag(FLAGS_max_response_mb);
  flags.stream_budget_mb = absl::GetFlag(FLAGS_stream_budget_mb);
  flags.memory_budget_mb = absl::GetFlag(FLAGS_memory_budget_mb);
  flags.default_timeout = absl::GetFlag(FLAGS_default_timeout);
  flags.max_timeout = absl::GetFlag(FLAGS_max_timeout);
  flags.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  flags.trim_after_burst = absl::GetFlag(FLAGS_trim_after_burst);
  flags.sched_batch = absl::GetFlag(FLAGS_sched_batch);
  flags.max_download_mb = absl::GetFlag(FLAGS_max_download_mb);
  flags.max_upload_mb = absl::GetFlag(FLAGS_max_upload_mb);
  flags.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  flags.quota_redis_url = absl::GetFlag(FLAGS_quota_redis_url);
  flags.quota_redis_password_file =
      absl::GetFlag(FLAGS_quota_redis_password_file);
  flags.quota_redis_timeout = absl::GetFlag(FLAGS_quota_redis_timeout);
  flags.quota_replicas = absl::GetFlag(FLAGS_quota_replicas);
  flags.gitlab_token = EnvOr("GITLAB_TOKEN", "");
  flags.quota_redis_password = EnvOr("GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD", "");
  for (const auto& [name, env] : gitlab_gateway::server::FlagEnvironment()) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag != nullptr && !EnvOr(env, "").empty() &&
        flag->CurrentValue() == flag->DefaultValue()) {
      flags.from_env.insert(name);
    }
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  using gitlab_gateway::LogLine;
  gitlab_gateway::ConfigureUsage(argc, argv);  // --help, --version
  absl::ParseCommandLine(argc, argv);
#ifdef NDEBUG
  // Debian's absl is built with deadlock detection on: every absl::Mutex
  // lock (gRPC's included) pays for a graph update. Keep it in debug/ASan
  // builds only (bench/README.md: -3% instructions per call).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif

  const gitlab_gateway::server::FlagValues flags = ReadFlags();
  absl::StatusOr<gitlab_gateway::server::GatewayConfig> config =
      gitlab_gateway::server::ConfigFromFlags(flags);
  if (!config.ok()) {
    LogLine("ERROR", "%s", config.status().message());
    return 2;
  }
  if (!config->upstream.default_credential.has_value()) {
    LogLine("WARN",
            "no default token: calls without credentials go to "
            "GitLab unauthenticated");
  } else if (config->upstream.allow_anonymous_default_token) {
    LogLine("WARN",
            "--allow_anonymous_default_token: any caller that reaches the "
            "port may spend the default token; for local development only");
  } else if (config->policy_file.empty()) {
    LogLine("WARN",
            "a default token but no --policy_file: no caller may spend it "
            "(see README: Security model, or --allow_anonymous_default_token "
            "for local development)");
  }

  // Before any thread starts: every thread inherits the policy.
  if (flags.sched_batch) {
    if (absl::Status s = gitlab_gateway::server::UseBatchScheduling();
        !s.ok()) {
      LogLine("WARN", "%s; threads run under SCHED_OTHER", s.message());
    }
  }

  // Block the signals before any thread starts, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server =
      gitlab_gateway::server::GatewayServer::Start(*std::move(config));
  if (!server.ok()) {
    LogLine("ERROR", "%s", server.status().ToString());
    return 1;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogLine("INFO", "signal %d: draining for up to %s", signal_number,
          absl::FormatDuration(flags.shutdown_grace));
  (*server)->Shutdown(flags.shutdown_grace);
  server->reset();
  LogLine("INFO", "stopped");
  return 0;
}
