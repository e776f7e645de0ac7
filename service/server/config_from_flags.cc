#include "service/server/config_from_flags.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "service/auth/policy_store.h"
#include "service/gitlab/credentials.h"
#include "service/gitlab/named_credentials.h"
#include "service/gitlab/url_builder.h"
#include "service/limits/redis_address.h"

namespace gitlab_gateway::server {
namespace {

constexpr FlagEnv kFlagEnvironment[] = {
    {"listen", "GITLAB_GATEWAY_LISTEN"},
    {"metrics_listen", "GITLAB_GATEWAY_METRICS_LISTEN"},
    {"access_log", "GITLAB_GATEWAY_ACCESS_LOG"},
    {"gitlab_url", "GITLAB_URL"},
    {"token_file", "GITLAB_TOKEN_FILE"},
    {"token_type", "GITLAB_TOKEN_TYPE"},
    {"ca_file", "GITLAB_CA_FILE"},
    {"tls_cert_file", "GITLAB_GATEWAY_TLS_CERT_FILE"},
    {"tls_key_file", "GITLAB_GATEWAY_TLS_KEY_FILE"},
    {"tls_client_ca_file", "GITLAB_GATEWAY_TLS_CLIENT_CA_FILE"},
    {"callers_file", "GITLAB_GATEWAY_CALLERS_FILE"},
    {"health_listen", "GITLAB_GATEWAY_HEALTH_LISTEN"},
    {"credentials_dir", "GITLAB_GATEWAY_CREDENTIALS_DIR"},
    {"policy_file", "GITLAB_GATEWAY_POLICY_FILE"},
    {"allow_anonymous_default_token",
     "GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN"},
    {"max_in_flight", "GITLAB_GATEWAY_MAX_IN_FLIGHT"},
    {"max_queue", "GITLAB_GATEWAY_MAX_QUEUE"},
    {"batch_window", "GITLAB_GATEWAY_BATCH_WINDOW"},
    {"rate_limit_per_minute", "GITLAB_GATEWAY_RATE_LIMIT_PER_MINUTE"},
    {"rate_limit_burst", "GITLAB_GATEWAY_RATE_LIMIT_BURST"},
    {"rate_limit_per_hour", "GITLAB_GATEWAY_RATE_LIMIT_PER_HOUR"},
    {"retry_max_attempts", "GITLAB_GATEWAY_RETRY_MAX_ATTEMPTS"},
    {"retry_base", "GITLAB_GATEWAY_RETRY_BASE"},
    {"retry_cap", "GITLAB_GATEWAY_RETRY_CAP"},
    {"retry_budget_ratio", "GITLAB_GATEWAY_RETRY_BUDGET_RATIO"},
    {"retry_budget_min", "GITLAB_GATEWAY_RETRY_BUDGET_MIN"},
    {"paginate_max_pages", "GITLAB_GATEWAY_PAGINATE_MAX_PAGES"},
    {"paginate_prefetch", "GITLAB_GATEWAY_PAGINATE_PREFETCH"},
    {"max_response_mb", "GITLAB_GATEWAY_MAX_RESPONSE_MB"},
    {"stream_budget_mb", "GITLAB_GATEWAY_STREAM_BUDGET_MB"},
    {"memory_budget_mb", "GITLAB_GATEWAY_MEMORY_BUDGET_MB"},
    {"max_download_mb", "GITLAB_GATEWAY_MAX_DOWNLOAD_MB"},
    {"max_upload_mb", "GITLAB_GATEWAY_MAX_UPLOAD_MB"},
    {"default_timeout", "GITLAB_GATEWAY_DEFAULT_TIMEOUT"},
    {"max_timeout", "GITLAB_GATEWAY_MAX_TIMEOUT"},
    {"connect_timeout", "GITLAB_GATEWAY_CONNECT_TIMEOUT"},
    {"trim_after_burst", "GITLAB_GATEWAY_TRIM_AFTER_BURST"},
    {"sched_batch", "GITLAB_GATEWAY_SCHED_BATCH"},
    {"shutdown_grace", "GITLAB_GATEWAY_SHUTDOWN_GRACE"},
    {"quota_redis_url", "GITLAB_GATEWAY_QUOTA_REDIS_URL"},
    {"quota_redis_password_file", "GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD_FILE"},
    {"quota_redis_timeout", "GITLAB_GATEWAY_QUOTA_REDIS_TIMEOUT"},
    {"quota_replicas", "GITLAB_GATEWAY_QUOTA_REPLICAS"},
};

// One line per refused flag; all of them are reported at once, so an
// operator fixes a deployment in one round.
class Problems {
 public:
  explicit Problems(const FlagValues& flags) : flags_(flags) {}

  // "--max_queue (env GITLAB_GATEWAY_MAX_QUEUE): <why>".
  void Add(absl::string_view flag, absl::string_view why) {
    std::string line = absl::StrCat("--", flag);
    if (flags_.from_env.contains(flag)) {
      for (const FlagEnv& entry : kFlagEnvironment) {
        if (flag == entry.flag)
          absl::StrAppend(&line, " (env ", entry.env, ")");
      }
    }
    lines_.push_back(absl::StrCat(line, ": ", why));
  }
  void AddLine(std::string line) { lines_.push_back(std::move(line)); }

  void AtLeast(absl::string_view flag, int value, int min) {
    if (value < min)
      Add(flag, absl::StrCat("must be at least ", min, ", got ", value));
  }

  // Finite and >= min (NaN fails every comparison, so it is refused too).
  void AtLeast(absl::string_view flag, double value, double min) {
    if (!(std::isfinite(value) && value >= min)) {
      Add(flag, absl::StrCat("must be a finite number of at least ", min,
                             ", got ", value));
    }
  }

  // Returns whether `value` was accepted.
  bool Positive(absl::string_view flag, absl::Duration value) {
    if (value > absl::ZeroDuration() && value < absl::InfiniteDuration()) {
      return true;
    }
    Add(flag, absl::StrCat("must be a positive finite duration, got ",
                           absl::FormatDuration(value)));
    return false;
  }

  bool empty() const { return lines_.empty(); }
  absl::Status ToStatus() const {
    return absl::InvalidArgumentError(absl::StrJoin(lines_, "; "));
  }

 private:
  const FlagValues& flags_;
  std::vector<std::string> lines_;
};

// The per-stream and gateway-wide byte budgets; both at least one answer.
void SetBudgets(const FlagValues& flags, Problems& problems,
                GatewayConfig& config) {
  problems.AtLeast("max_response_mb", flags.max_response_mb, 1);
  problems.AtLeast("stream_budget_mb", flags.stream_budget_mb, 0);
  problems.AtLeast("memory_budget_mb", flags.memory_budget_mb, 0);
  if (flags.max_response_mb < 1 || flags.stream_budget_mb < 0 ||
      flags.memory_budget_mb < 0) {
    return;  // nothing consistent to compare
  }
  const size_t response_mb = static_cast<size_t>(flags.max_response_mb);
  const size_t stream_mb = flags.stream_budget_mb > 0
                               ? static_cast<size_t>(flags.stream_budget_mb)
                               : 2 * response_mb;
  const size_t memory_mb = flags.memory_budget_mb > 0
                               ? static_cast<size_t>(flags.memory_budget_mb)
                               : 16 * response_mb;
  // A budget smaller than one answer would refuse every large answer.
  if (stream_mb < response_mb) {
    problems.Add("stream_budget_mb",
                 absl::StrCat("must be at least --max_response_mb (",
                              response_mb, "), got ", stream_mb));
  } else if (memory_mb < stream_mb) {
    if (flags.memory_budget_mb > 0) {
      problems.Add(
          "memory_budget_mb",
          absl::StrCat("must be at least the stream budget (", stream_mb,
                       flags.stream_budget_mb > 0
                           ? " MiB, --stream_budget_mb"
                           : " MiB, 2 x --max_response_mb",
                       "), got ", memory_mb));
    } else {
      problems.Add(
          "stream_budget_mb",
          absl::StrCat("must be at most the memory budget (", memory_mb,
                       " MiB, 16 x --max_response_mb; or set "
                       "--memory_budget_mb), got ",
                       stream_mb));
    }
  }
  config.engine.max_response_bytes = response_mb << 20;
  config.stream_budget_bytes = stream_mb << 20;
  config.memory_budget_bytes = memory_mb << 20;
}

// The default credential: token_file, else env GITLAB_TOKEN, else none.
void SetCredential(const FlagValues& flags, Problems& problems,
                   GatewayConfig& config) {
  absl::StatusOr<gitlab::TokenKind> kind =
      gitlab::ParseTokenKind(flags.token_type);
  if (!kind.ok()) {
    problems.Add("token_type", kind.status().message());
    return;
  }
  if (!flags.token_file.empty()) {
    absl::StatusOr<gitlab::Credential> credential =
        gitlab::LoadCredentialFile(flags.token_file, *kind);
    if (!credential.ok()) {
      problems.Add("token_file", credential.status().message());
      return;
    }
    config.upstream.default_credential = *std::move(credential);
  } else if (!flags.gitlab_token.empty()) {
    if (std::optional<std::string> problem =
            gitlab::TokenProblem(flags.gitlab_token)) {
      // Not a flag: named as the variable alone, never with its value.
      problems.AddLine(absl::StrCat("env GITLAB_TOKEN: ", *problem));
      return;
    }
    config.upstream.default_credential =
        gitlab::Credential{*kind, flags.gitlab_token};
  }
  if (!flags.credentials_dir.empty()) {
    absl::StatusOr<gitlab::NamedCredentials> named =
        gitlab::LoadCredentialsDir(flags.credentials_dir, *kind);
    if (!named.ok()) {
      problems.Add("credentials_dir", named.status().message());
      return;
    }
    config.upstream.named_credentials =
        std::make_shared<const gitlab::NamedCredentials>(*std::move(named));
  }
}

// The policy file, checked against the credentials it may name.
void SetPolicy(const FlagValues& flags, Problems& problems,
               GatewayConfig& config) {
  config.upstream.allow_anonymous_default_token =
      flags.allow_anonymous_default_token;
  config.policy_file = flags.policy_file;
  if (flags.policy_file.empty()) return;
  absl::StatusOr<std::shared_ptr<const auth::Policy>> policy =
      auth::LoadPolicyFile(flags.policy_file, CredentialNames(config.upstream));
  if (!policy.ok()) {
    // The message starts with "--policy_file ...": add the variable only.
    std::string message(policy.status().message());
    absl::string_view rest = message;
    if (absl::ConsumePrefix(&rest, "--policy_file ")) {
      problems.Add("policy_file", rest);
    } else {
      problems.AddLine(std::move(message));
    }
  }
}

// The gRPC port's TLS and the callers file; the files themselves are read
// (and refused naming the flag) when the server starts.
void SetCallerIdentity(const FlagValues& flags, Problems& problems,
                       GatewayConfig& config) {
  if (flags.tls_cert_file.empty() != flags.tls_key_file.empty()) {
    problems.Add(flags.tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file",
                 "--tls_cert_file and --tls_key_file go together");
  }
  if (!flags.tls_client_ca_file.empty() && flags.tls_cert_file.empty()) {
    problems.Add("tls_client_ca_file",
                 "client certificates need TLS: set --tls_cert_file and "
                 "--tls_key_file too");
  }
  config.tls.cert_file = flags.tls_cert_file;
  config.tls.key_file = flags.tls_key_file;
  config.tls.client_ca_file = flags.tls_client_ca_file;
  config.callers_file = flags.callers_file;
  config.health_listen_address = flags.health_listen;
}

// A log file must be creatable where it is named (the gateway opens it at
// start); stderr and off need nothing.
void CheckAccessLog(const std::string& value, Problems& problems) {
  if (value.empty() || value == "stderr" || value == "off") return;
  struct stat st;
  if (::stat(value.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    problems.Add("access_log", absl::StrCat(value, " is a directory"));
    return;
  }
  const size_t slash = value.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : value.substr(0, slash);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    problems.Add("access_log",
                 absl::StrCat("directory ", dir,
                              " does not exist or is not writable"));
  }
}

// Redis' password from the first line of `path`; "" with a problem added.
std::string ReadRedisPassword(const std::string& path, Problems& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.Add("quota_redis_password_file", "cannot be read");
    return "";
  }
  std::string text(4097, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > 4096) {
    problems.Add("quota_redis_password_file", "is larger than 4 KiB");
    return "";
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  if (text.empty()) {
    problems.Add("quota_redis_password_file", "is empty");
  } else if (text.find_first_of(std::string("\r\n\0", 3)) !=
             std::string::npos) {
    problems.Add("quota_redis_password_file",
                 "must hold the password on one line");
    text.clear();
  }
  return text;
}

// --quota_redis_url and its companions. Every value is checked even
// without the URL, so a typo is found before the day it is turned on.
void SetSharedQuota(const FlagValues& flags, Problems& problems,
                    GatewayConfig& config) {
  limits::SharedQuotaOptions& quota = config.shared_quota;
  if (problems.Positive("quota_redis_timeout", flags.quota_redis_timeout) &&
      flags.quota_redis_timeout > absl::Seconds(10)) {
    problems.Add("quota_redis_timeout",
                 absl::StrCat("must be at most 10s (calls wait for it), got ",
                              absl::FormatDuration(flags.quota_redis_timeout)));
  }
  quota.timeout = flags.quota_redis_timeout;
  problems.AtLeast("quota_replicas", flags.quota_replicas, 1);
  if (flags.quota_replicas > 1000) {
    problems.Add("quota_replicas", absl::StrCat("must be at most 1000, got ",
                                                flags.quota_replicas));
  }
  quota.replicas = flags.quota_replicas;
  if (flags.quota_redis_url.empty()) {
    if (!flags.quota_redis_password_file.empty()) {
      problems.Add("quota_redis_password_file",
                   "is set but --quota_redis_url is not");
    }
    return;
  }
  // The URL is never echoed: it may hold the password.
  absl::StatusOr<limits::RedisAddress> address =
      limits::ParseRedisUrl(flags.quota_redis_url);
  if (!address.ok()) {
    problems.Add("quota_redis_url", address.status().message());
    return;
  }
  int sources = !address->password.empty() +
                !flags.quota_redis_password_file.empty() +
                !flags.quota_redis_password.empty();
  if (sources > 1) {
    problems.Add("quota_redis_url",
                 "Redis' password is given more than once (URL, "
                 "--quota_redis_password_file, env "
                 "GITLAB_GATEWAY_QUOTA_REDIS_PASSWORD): keep one");
    return;
  }
  if (!flags.quota_redis_password_file.empty()) {
    address->password =
        ReadRedisPassword(flags.quota_redis_password_file, problems);
  } else if (!flags.quota_redis_password.empty()) {
    address->password = flags.quota_redis_password;
  }
  quota.redis = *std::move(address);
}

}  // namespace

absl::Span<const FlagEnv> FlagEnvironment() { return kFlagEnvironment; }

absl::StatusOr<GatewayConfig> ConfigFromFlags(const FlagValues& flags) {
  Problems problems(flags);
  GatewayConfig config;

  if (flags.listen.empty()) problems.Add("listen", "must not be empty");
  config.listen_address = flags.listen;
  // An empty variable means "unset", so the environment turns it off by name.
  config.metrics_address =
      flags.metrics_listen == "off" ? "" : flags.metrics_listen;
  CheckAccessLog(flags.access_log, problems);
  config.access_log = flags.access_log;
  // GatewayServer::Start parses it again; here a bad URL is a flag error.
  absl::StatusOr<gitlab::BaseUrl> base_url =
      gitlab::ParseBaseUrl(flags.gitlab_url);
  if (!base_url.ok()) problems.Add("gitlab_url", base_url.status().message());
  config.gitlab_url = flags.gitlab_url;
  SetCredential(flags, problems, config);
  SetPolicy(flags, problems, config);
  config.engine.ca_file = flags.ca_file;
  SetCallerIdentity(flags, problems, config);

  problems.AtLeast("max_in_flight", flags.max_in_flight, 1);
  config.engine.max_in_flight = flags.max_in_flight;
  problems.AtLeast("max_queue", flags.max_queue, 0);
  config.engine.max_queue = static_cast<size_t>(flags.max_queue);
  problems.AtLeast("batch_window", flags.batch_window, 1);
  config.batch_window = flags.batch_window;
  SetBudgets(flags, problems, config);
  problems.Positive("connect_timeout", flags.connect_timeout);
  config.engine.connect_timeout = flags.connect_timeout;

  problems.AtLeast("rate_limit_per_minute", flags.rate_limit_per_minute, 0.0);
  config.upstream.limiter.per_minute = flags.rate_limit_per_minute;
  problems.AtLeast("rate_limit_burst", flags.rate_limit_burst, 1.0);
  config.upstream.limiter.burst = flags.rate_limit_burst;
  // 0 turns it off; below one call a minute it would stall a credential.
  if (!(flags.rate_limit_per_hour == 0 ||
        (std::isfinite(flags.rate_limit_per_hour) &&
         flags.rate_limit_per_hour >= 60))) {
    problems.Add("rate_limit_per_hour",
                 absl::StrCat("must be 0 (no hourly limit) or a finite number "
                              "of at least 60, got ",
                              flags.rate_limit_per_hour));
  }
  config.upstream.limiter.per_hour = flags.rate_limit_per_hour;

  problems.AtLeast("retry_max_attempts", flags.retry_max_attempts, 1);
  config.upstream.retry.max_attempts = flags.retry_max_attempts;
  const bool base_ok = problems.Positive("retry_base", flags.retry_base);
  const bool cap_ok = problems.Positive("retry_cap", flags.retry_cap);
  if (base_ok && cap_ok && flags.retry_cap < flags.retry_base) {
    problems.Add("retry_cap",
                 absl::StrCat("must be at least --retry_base (",
                              absl::FormatDuration(flags.retry_base), "), got ",
                              absl::FormatDuration(flags.retry_cap)));
  }
  config.upstream.retry.base = flags.retry_base;
  config.upstream.retry.cap = flags.retry_cap;
  if (!(flags.retry_budget_ratio >= 0 && flags.retry_budget_ratio <= 1)) {
    problems.Add("retry_budget_ratio",
                 absl::StrCat("must be between 0 and 1, got ",
                              flags.retry_budget_ratio));
  }
  config.upstream.retry_budget_ratio = flags.retry_budget_ratio;
  problems.AtLeast("retry_budget_min", flags.retry_budget_min, 0);
  config.upstream.retry_budget_min = flags.retry_budget_min;

  problems.Positive("default_timeout", flags.default_timeout);
  config.upstream.default_timeout = flags.default_timeout;
  problems.Positive("max_timeout", flags.max_timeout);
  config.upstream.max_timeout = flags.max_timeout;

  problems.AtLeast("paginate_max_pages", flags.paginate_max_pages, 1);
  config.paginate.max_pages = flags.paginate_max_pages;
  problems.AtLeast("paginate_prefetch", flags.paginate_prefetch, 1);
  config.paginate.prefetch = flags.paginate_prefetch;

  problems.AtLeast("max_download_mb", flags.max_download_mb, 0);
  problems.AtLeast("max_upload_mb", flags.max_upload_mb, 0);
  config.max_download_bytes =
      static_cast<uint64_t>(std::max(0, flags.max_download_mb)) << 20;
  config.max_upload_bytes =
      static_cast<uint64_t>(std::max(0, flags.max_upload_mb)) << 20;
  problems.AtLeast("trim_after_burst", flags.trim_after_burst, 0);
  config.trim.burst = static_cast<size_t>(flags.trim_after_burst);
  // Zero is meaningful here: cancel in-flight calls at once.
  if (flags.shutdown_grace < absl::ZeroDuration() ||
      flags.shutdown_grace == absl::InfiniteDuration()) {
    problems.Add("shutdown_grace",
                 absl::StrCat("must be a finite duration of at least 0, got ",
                              absl::FormatDuration(flags.shutdown_grace)));
  }

  SetSharedQuota(flags, problems, config);

  if (!problems.empty()) return problems.ToStatus();
  return config;
}

}  // namespace gitlab_gateway::server
