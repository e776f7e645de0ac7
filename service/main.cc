// gitlab-gateway: flags and env -> GatewayConfig -> GatewayServer; waits for
// SIGTERM/SIGINT, then drains. Nothing else lives here.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/gitlab/credentials.h"
#include "service/server/gateway_server.h"
#include "service/server/log.h"

namespace {

// Flag defaults come from the environment, so containers configure by env and
// an explicit flag still wins.
std::string EnvOr(const char* name, const char* fallback) {
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

absl::Duration EnvDurationOr(const char* name, absl::Duration fallback) {
  return EnvParsedOr(
      name, fallback,
      [](const char* text, absl::Duration* out) {
        return absl::ParseDuration(text, out);
      },
      "a duration like 30s or 500ms");
}

}  // namespace

ABSL_FLAG(std::string, listen, EnvOr("GITLAB_GATEWAY_LISTEN", "0.0.0.0:50051"),
          "gRPC listen address [env GITLAB_GATEWAY_LISTEN]");
ABSL_FLAG(std::string, metrics_listen,
          EnvOr("GITLAB_GATEWAY_METRICS_LISTEN", "0.0.0.0:9090"),
          "Prometheus /metrics listen address; empty or \"off\" disables "
          "[env GITLAB_GATEWAY_METRICS_LISTEN]");
ABSL_FLAG(std::string, gitlab_url, EnvOr("GITLAB_URL", "https://gitlab.com"),
          "GitLab base URL [env GITLAB_URL]");
ABSL_FLAG(std::string, token_file, EnvOr("GITLAB_TOKEN_FILE", ""),
          "file holding the default GitLab token (else env GITLAB_TOKEN) "
          "[env GITLAB_TOKEN_FILE]");
ABSL_FLAG(std::string, token_type, EnvOr("GITLAB_TOKEN_TYPE", "private"),
          "type of the default token: private, oauth or job "
          "[env GITLAB_TOKEN_TYPE]");
ABSL_FLAG(std::string, ca_file, EnvOr("GITLAB_CA_FILE", ""),
          "CA bundle for GitLab's TLS certificate; empty = system store "
          "[env GITLAB_CA_FILE]");
ABSL_FLAG(int, max_in_flight, EnvIntOr("GITLAB_GATEWAY_MAX_IN_FLIGHT", 64),
          "upstream transfers at once [env GITLAB_GATEWAY_MAX_IN_FLIGHT]");
ABSL_FLAG(int, max_queue, EnvIntOr("GITLAB_GATEWAY_MAX_QUEUE", 10000),
          "requests waiting for an upstream slot before RESOURCE_EXHAUSTED "
          "[env GITLAB_GATEWAY_MAX_QUEUE]");
ABSL_FLAG(int, batch_window, EnvIntOr("GITLAB_GATEWAY_BATCH_WINDOW", 256),
          "BatchExecute items per stream in flight or awaiting their write; "
          "reading pauses beyond it [env GITLAB_GATEWAY_BATCH_WINDOW]");
ABSL_FLAG(double, rate_limit_per_minute,
          EnvDoubleOr("GITLAB_GATEWAY_RATE_LIMIT_PER_MINUTE", 2000),
          "calls per minute per credential (GitLab.com allows 2000); 0 "
          "disables [env GITLAB_GATEWAY_RATE_LIMIT_PER_MINUTE]");
ABSL_FLAG(double, rate_limit_burst, EnvDoubleOr("GITLAB_GATEWAY_RATE_LIMIT_BURST", 100),
          "token bucket burst per credential [env GITLAB_GATEWAY_RATE_LIMIT_BURST]");
ABSL_FLAG(int, retry_max_attempts, EnvIntOr("GITLAB_GATEWAY_RETRY_MAX_ATTEMPTS", 3),
          "attempts per call including the first; 1 disables retries "
          "[env GITLAB_GATEWAY_RETRY_MAX_ATTEMPTS]");
ABSL_FLAG(absl::Duration, retry_base,
          EnvDurationOr("GITLAB_GATEWAY_RETRY_BASE", absl::Milliseconds(100)),
          "backoff base (full jitter) [env GITLAB_GATEWAY_RETRY_BASE]");
ABSL_FLAG(absl::Duration, retry_cap,
          EnvDurationOr("GITLAB_GATEWAY_RETRY_CAP", absl::Seconds(5)),
          "backoff cap [env GITLAB_GATEWAY_RETRY_CAP]");
ABSL_FLAG(double, retry_budget_ratio,
          EnvDoubleOr("GITLAB_GATEWAY_RETRY_BUDGET_RATIO", 0.2),
          "retries in progress at most this share of active calls "
          "[env GITLAB_GATEWAY_RETRY_BUDGET_RATIO]");
ABSL_FLAG(int, retry_budget_min, EnvIntOr("GITLAB_GATEWAY_RETRY_BUDGET_MIN", 3),
          "retries always allowed in progress, whatever the ratio "
          "[env GITLAB_GATEWAY_RETRY_BUDGET_MIN]");
ABSL_FLAG(int, paginate_max_pages,
          EnvIntOr("GITLAB_GATEWAY_PAGINATE_MAX_PAGES", 1000),
          "hard cap on pages per Paginate call [env GITLAB_GATEWAY_PAGINATE_MAX_PAGES]");
ABSL_FLAG(int, paginate_prefetch, EnvIntOr("GITLAB_GATEWAY_PAGINATE_PREFETCH", 4),
          "offset pages fetched ahead when GitLab reports totals "
          "[env GITLAB_GATEWAY_PAGINATE_PREFETCH]");
ABSL_FLAG(int, max_response_mb, EnvIntOr("GITLAB_GATEWAY_MAX_RESPONSE_MB", 64),
          "largest GitLab response body, MiB [env GITLAB_GATEWAY_MAX_RESPONSE_MB]");
ABSL_FLAG(int, stream_budget_mb, EnvIntOr("GITLAB_GATEWAY_STREAM_BUDGET_MB", 0),
          "BatchExecute MiB per stream: reading pauses while request bodies "
          "in flight plus unwritten answers reach it; answers beyond it fail "
          "with GATEWAY_OVERLOADED; 0 = 2 x max_response_mb "
          "[env GITLAB_GATEWAY_STREAM_BUDGET_MB]");
ABSL_FLAG(int, memory_budget_mb, EnvIntOr("GITLAB_GATEWAY_MEMORY_BUDGET_MB", 0),
          "MiB of request and response bodies the gateway buffers at once; "
          "beyond it calls fail with RESOURCE_EXHAUSTED (GATEWAY_OVERLOADED); "
          "0 = 16 x max_response_mb [env GITLAB_GATEWAY_MEMORY_BUDGET_MB]");
ABSL_FLAG(absl::Duration, default_timeout,
          EnvDurationOr("GITLAB_GATEWAY_DEFAULT_TIMEOUT", absl::Seconds(30)),
          "call timeout when neither Request.timeout nor the RPC deadline is "
          "set [env GITLAB_GATEWAY_DEFAULT_TIMEOUT]");
ABSL_FLAG(absl::Duration, max_timeout,
          EnvDurationOr("GITLAB_GATEWAY_MAX_TIMEOUT", absl::Minutes(10)),
          "upper bound for Request.timeout [env GITLAB_GATEWAY_MAX_TIMEOUT]");
ABSL_FLAG(absl::Duration, connect_timeout,
          EnvDurationOr("GITLAB_GATEWAY_CONNECT_TIMEOUT", absl::Seconds(10)),
          "TCP+TLS connect timeout [env GITLAB_GATEWAY_CONNECT_TIMEOUT]");
ABSL_FLAG(int, trim_after_burst,
          EnvIntOr("GITLAB_GATEWAY_TRIM_AFTER_BURST", 1000),
          "after this many calls were in flight or queued at once, return "
          "freed memory to the kernel once the gateway is idle again; 0 "
          "disables [env GITLAB_GATEWAY_TRIM_AFTER_BURST]");
ABSL_FLAG(absl::Duration, shutdown_grace,
          EnvDurationOr("GITLAB_GATEWAY_SHUTDOWN_GRACE", absl::Seconds(25)),
          "on SIGTERM, how long in-flight calls may finish "
          "[env GITLAB_GATEWAY_SHUTDOWN_GRACE]");

int main(int argc, char** argv) {
  using gitlab_gateway::LogLine;
  namespace gitlab = gitlab_gateway::gitlab;
  absl::SetProgramUsageMessage(
      "gitlab-gateway: a gRPC gateway to the GitLab API. Flags also read "
      "the environment variables named in their help.");
  absl::ParseCommandLine(argc, argv);
#ifdef NDEBUG
  // Debian's absl is built with deadlock detection on: every absl::Mutex
  // lock (gRPC's included) pays for a graph update. Keep it in debug/ASan
  // builds only (bench/README.md: -3% instructions per call).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif

  // Block the signals before any thread starts, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  gitlab_gateway::server::GatewayConfig config;
  config.listen_address = absl::GetFlag(FLAGS_listen);
  config.metrics_address = absl::GetFlag(FLAGS_metrics_listen);
  // An empty variable means "unset", so the environment turns it off by name.
  if (config.metrics_address == "off") config.metrics_address.clear();
  config.gitlab_url = absl::GetFlag(FLAGS_gitlab_url);
  config.engine.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  config.engine.max_queue =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_max_queue)));
  config.engine.max_response_bytes =
      static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_response_mb)))
      << 20;
  const size_t max_response_mb = config.engine.max_response_bytes >> 20;
  const int stream_budget_mb = absl::GetFlag(FLAGS_stream_budget_mb);
  const int memory_budget_mb = absl::GetFlag(FLAGS_memory_budget_mb);
  config.stream_budget_bytes =
      (stream_budget_mb > 0 ? static_cast<size_t>(stream_budget_mb)
                            : 2 * max_response_mb)
      << 20;
  config.memory_budget_bytes =
      (memory_budget_mb > 0 ? static_cast<size_t>(memory_budget_mb)
                            : 16 * max_response_mb)
      << 20;
  // A budget smaller than one answer would refuse every large answer.
  if (config.stream_budget_bytes < config.engine.max_response_bytes ||
      config.memory_budget_bytes < config.stream_budget_bytes) {
    LogLine("ERROR",
            "stream_budget_mb (%d MiB) must be at least max_response_mb (%d), "
            "and memory_budget_mb (%d MiB) at least stream_budget_mb",
            static_cast<int>(config.stream_budget_bytes >> 20),
            static_cast<int>(max_response_mb),
            static_cast<int>(config.memory_budget_bytes >> 20));
    return 2;
  }
  config.engine.ca_file = absl::GetFlag(FLAGS_ca_file);
  config.engine.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  config.batch_window = absl::GetFlag(FLAGS_batch_window);
  config.paginate.max_pages = std::max(1, absl::GetFlag(FLAGS_paginate_max_pages));
  config.paginate.prefetch = std::max(1, absl::GetFlag(FLAGS_paginate_prefetch));
  config.upstream.limiter.per_minute = absl::GetFlag(FLAGS_rate_limit_per_minute);
  config.upstream.limiter.burst = absl::GetFlag(FLAGS_rate_limit_burst);
  config.upstream.retry.max_attempts = std::max(1, absl::GetFlag(FLAGS_retry_max_attempts));
  config.upstream.retry.base = absl::GetFlag(FLAGS_retry_base);
  config.upstream.retry.cap = absl::GetFlag(FLAGS_retry_cap);
  config.upstream.retry_budget_ratio = absl::GetFlag(FLAGS_retry_budget_ratio);
  config.upstream.retry_budget_min = absl::GetFlag(FLAGS_retry_budget_min);
  config.upstream.default_timeout = absl::GetFlag(FLAGS_default_timeout);
  config.upstream.max_timeout = absl::GetFlag(FLAGS_max_timeout);
  config.trim.burst =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_trim_after_burst)));

  absl::StatusOr<gitlab::TokenKind> kind =
      gitlab::ParseTokenKind(absl::GetFlag(FLAGS_token_type));
  if (!kind.ok()) {
    LogLine("ERROR", "token_type: %s", kind.status().message());
    return 2;
  }
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  const char* token_env = std::getenv("GITLAB_TOKEN");
  if (!token_file.empty()) {
    absl::StatusOr<gitlab::Credential> credential =
        gitlab::LoadCredentialFile(token_file, *kind);
    if (!credential.ok()) {
      LogLine("ERROR", "token_file: %s", credential.status().message());
      return 2;
    }
    config.upstream.default_credential = *std::move(credential);
  } else if (token_env != nullptr && *token_env != '\0') {
    if (std::optional<std::string> problem = gitlab::TokenProblem(token_env)) {
      LogLine("ERROR", "GITLAB_TOKEN: %s", *problem);
      return 2;
    }
    config.upstream.default_credential = gitlab::Credential{*kind, token_env};
  } else {
    LogLine("WARN", "no default token: calls without credentials go to "
                    "GitLab unauthenticated");
  }

  auto server = gitlab_gateway::server::GatewayServer::Start(std::move(config));
  if (!server.ok()) {
    LogLine("ERROR", "%s", server.status().ToString());
    return 1;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);
  LogLine("INFO", "signal %d: draining for up to %s", signal_number,
          absl::FormatDuration(grace));
  (*server)->Shutdown(grace);
  server->reset();
  LogLine("INFO", "stopped");
  return 0;
}
