#include "service/server/config_from_flags.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The error message of a refused config ("" when it was accepted).
std::string Error(const FlagValues& flags) {
  return std::string(ConfigFromFlags(flags).status().message());
}

// What main.cc built from the default flags before ConfigFromFlags existed.
TEST(ConfigFromFlagsTest, DefaultsGiveTodaysConfig) {
  absl::StatusOr<GatewayConfig> config = ConfigFromFlags(FlagValues());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "0.0.0.0:50051");
  EXPECT_EQ(config->metrics_address, "0.0.0.0:9090");
  EXPECT_EQ(config->gitlab_url, "https://gitlab.com");
  EXPECT_EQ(config->engine.max_in_flight, 64);
  EXPECT_EQ(config->engine.max_queue, 10000u);
  EXPECT_EQ(config->engine.max_response_bytes, size_t{64} << 20);
  EXPECT_EQ(config->engine.ca_file, "");
  EXPECT_EQ(config->engine.connect_timeout, absl::Seconds(10));
  EXPECT_EQ(config->stream_budget_bytes, size_t{128} << 20);
  EXPECT_EQ(config->memory_budget_bytes, size_t{1024} << 20);
  EXPECT_EQ(config->batch_window, 256);
  EXPECT_EQ(config->paginate.max_pages, 1000);
  EXPECT_EQ(config->paginate.prefetch, 4);
  EXPECT_EQ(config->upstream.limiter.per_minute, 2000);
  EXPECT_EQ(config->upstream.limiter.per_hour, 0);  // no hourly limit
  EXPECT_EQ(config->upstream.limiter.burst, 100);
  EXPECT_EQ(config->upstream.retry.max_attempts, 3);
  EXPECT_EQ(config->upstream.retry.base, absl::Milliseconds(100));
  EXPECT_EQ(config->upstream.retry.cap, absl::Seconds(5));
  EXPECT_EQ(config->upstream.retry_budget_ratio, 0.2);
  EXPECT_EQ(config->upstream.retry_budget_min, 3);
  EXPECT_EQ(config->upstream.default_timeout, absl::Seconds(30));
  EXPECT_EQ(config->upstream.max_timeout, absl::Minutes(10));
  EXPECT_FALSE(config->upstream.default_credential.has_value());
  EXPECT_EQ(config->trim.burst, 1000u);
}

TEST(ConfigFromFlagsTest, BudgetsDefaultToMultiplesOfTheLargestAnswer) {
  FlagValues flags;
  flags.max_response_mb = 8;
  absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->engine.max_response_bytes, size_t{8} << 20);
  EXPECT_EQ(config->stream_budget_bytes, size_t{16} << 20);
  EXPECT_EQ(config->memory_budget_bytes, size_t{128} << 20);

  flags.stream_budget_mb = 8;
  flags.memory_budget_mb = 8;
  config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->stream_budget_bytes, size_t{8} << 20);
  EXPECT_EQ(config->memory_budget_bytes, size_t{8} << 20);
}

TEST(ConfigFromFlagsTest, AccessLogGoesToStderrAFileOrNowhere) {
  EXPECT_EQ(ConfigFromFlags(FlagValues())->access_log, "stderr");
  for (const char* value : {"off", "stderr", "/tmp/gateway-access.log"}) {
    FlagValues flags;
    flags.access_log = value;
    absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->access_log, value);
  }
}

TEST(ConfigFromFlagsTest, MetricsOffOrEmptyTurnsTheEndpointOff) {
  for (const char* value : {"off", ""}) {
    FlagValues flags;
    flags.metrics_listen = value;
    absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->metrics_address, "") << value;
  }
}

struct Row {
  const char* name;
  std::function<void(FlagValues&)> set;
  const char* flag;   // the flag the error must name
  std::string error;  // the whole message, without the "--flag: " prefix
};

// One bad value per row; the message names exactly that flag.
std::vector<Row> BadRows() {
  return {
      {"empty listen", [](FlagValues& f) { f.listen = ""; }, "listen",
       "must not be empty"},
      {"tls cert without key",
       [](FlagValues& f) { f.tls_cert_file = "/etc/tls/tls.crt"; },
       "tls_key_file", "--tls_cert_file and --tls_key_file go together"},
      {"tls key without cert",
       [](FlagValues& f) { f.tls_key_file = "/etc/tls/tls.key"; },
       "tls_cert_file", "--tls_cert_file and --tls_key_file go together"},
      {"client CA without TLS",
       [](FlagValues& f) { f.tls_client_ca_file = "/etc/tls/ca.crt"; },
       "tls_client_ca_file",
       "client certificates need TLS: set --tls_cert_file and "
       "--tls_key_file too"},
      {"access_log in a missing directory",
       [](FlagValues& f) { f.access_log = "/nonexistent-dir/access.log"; },
       "access_log",
       "directory /nonexistent-dir does not exist or is not writable"},
      {"access_log a directory", [](FlagValues& f) { f.access_log = "/tmp"; },
       "access_log", "/tmp is a directory"},
      {"max_in_flight 0", [](FlagValues& f) { f.max_in_flight = 0; },
       "max_in_flight", "must be at least 1, got 0"},
      {"max_in_flight -3", [](FlagValues& f) { f.max_in_flight = -3; },
       "max_in_flight", "must be at least 1, got -3"},
      {"max_queue -1", [](FlagValues& f) { f.max_queue = -1; }, "max_queue",
       "must be at least 0, got -1"},
      {"batch_window 0", [](FlagValues& f) { f.batch_window = 0; },
       "batch_window", "must be at least 1, got 0"},
      {"rate -1", [](FlagValues& f) { f.rate_limit_per_minute = -1; },
       "rate_limit_per_minute",
       "must be a finite number of at least 0, got -1"},
      {"rate nan", [](FlagValues& f) { f.rate_limit_per_minute = kNaN; },
       "rate_limit_per_minute",
       "must be a finite number of at least 0, got nan"},
      {"rate inf", [](FlagValues& f) { f.rate_limit_per_minute = kInf; },
       "rate_limit_per_minute",
       "must be a finite number of at least 0, got inf"},
      {"burst 0.5", [](FlagValues& f) { f.rate_limit_burst = 0.5; },
       "rate_limit_burst", "must be a finite number of at least 1, got 0.5"},
      {"burst 0", [](FlagValues& f) { f.rate_limit_burst = 0; },
       "rate_limit_burst", "must be a finite number of at least 1, got 0"},
      {"per_hour -1", [](FlagValues& f) { f.rate_limit_per_hour = -1; },
       "rate_limit_per_hour",
       "must be 0 (no hourly limit) or a finite number of at least 60, got -1"},
      {"per_hour 59", [](FlagValues& f) { f.rate_limit_per_hour = 59; },
       "rate_limit_per_hour",
       "must be 0 (no hourly limit) or a finite number of at least 60, got 59"},
      {"per_hour 0.5", [](FlagValues& f) { f.rate_limit_per_hour = 0.5; },
       "rate_limit_per_hour",
       "must be 0 (no hourly limit) or a finite number of at least 60, got 0.5"},
      {"per_hour nan", [](FlagValues& f) { f.rate_limit_per_hour = kNaN; },
       "rate_limit_per_hour",
       "must be 0 (no hourly limit) or a finite number of at least 60, got nan"},
      {"per_hour inf", [](FlagValues& f) { f.rate_limit_per_hour = kInf; },
       "rate_limit_per_hour",
       "must be 0 (no hourly limit) or a finite number of at least 60, got inf"},
      {"attempts 0", [](FlagValues& f) { f.retry_max_attempts = 0; },
       "retry_max_attempts", "must be at least 1, got 0"},
      {"retry_base 0",
       [](FlagValues& f) { f.retry_base = absl::ZeroDuration(); }, "retry_base",
       "must be a positive finite duration, got 0"},
      {"retry_base inf",
       [](FlagValues& f) { f.retry_base = absl::InfiniteDuration(); },
       "retry_base", "must be a positive finite duration, got inf"},
      {"retry_cap -1s", [](FlagValues& f) { f.retry_cap = absl::Seconds(-1); },
       "retry_cap", "must be a positive finite duration, got -1s"},
      {"retry_cap below base",
       [](FlagValues& f) { f.retry_cap = absl::Milliseconds(50); }, "retry_cap",
       "must be at least --retry_base (100ms), got 50ms"},
      {"ratio -0.1", [](FlagValues& f) { f.retry_budget_ratio = -0.1; },
       "retry_budget_ratio", "must be between 0 and 1, got -0.1"},
      {"ratio 1.5", [](FlagValues& f) { f.retry_budget_ratio = 1.5; },
       "retry_budget_ratio", "must be between 0 and 1, got 1.5"},
      {"ratio nan", [](FlagValues& f) { f.retry_budget_ratio = kNaN; },
       "retry_budget_ratio", "must be between 0 and 1, got nan"},
      {"budget_min -1", [](FlagValues& f) { f.retry_budget_min = -1; },
       "retry_budget_min", "must be at least 0, got -1"},
      {"max_pages 0", [](FlagValues& f) { f.paginate_max_pages = 0; },
       "paginate_max_pages", "must be at least 1, got 0"},
      {"prefetch 0", [](FlagValues& f) { f.paginate_prefetch = 0; },
       "paginate_prefetch", "must be at least 1, got 0"},
      {"max_response 0", [](FlagValues& f) { f.max_response_mb = 0; },
       "max_response_mb", "must be at least 1, got 0"},
      {"max_response -1", [](FlagValues& f) { f.max_response_mb = -1; },
       "max_response_mb", "must be at least 1, got -1"},
      {"stream -1", [](FlagValues& f) { f.stream_budget_mb = -1; },
       "stream_budget_mb", "must be at least 0, got -1"},
      {"stream below one answer",
       [](FlagValues& f) { f.stream_budget_mb = 32; }, "stream_budget_mb",
       "must be at least --max_response_mb (64), got 32"},
      {"stream above default memory",
       [](FlagValues& f) { f.stream_budget_mb = 2048; }, "stream_budget_mb",
       "must be at most the memory budget (1024 MiB, 16 x --max_response_mb; "
       "or set --memory_budget_mb), got 2048"},
      {"memory -1", [](FlagValues& f) { f.memory_budget_mb = -1; },
       "memory_budget_mb", "must be at least 0, got -1"},
      {"memory below default stream",
       [](FlagValues& f) { f.memory_budget_mb = 100; }, "memory_budget_mb",
       "must be at least the stream budget (128 MiB, 2 x --max_response_mb), "
       "got 100"},
      {"memory below stream",
       [](FlagValues& f) {
         f.stream_budget_mb = 300;
         f.memory_budget_mb = 200;
       },
       "memory_budget_mb",
       "must be at least the stream budget (300 MiB, --stream_budget_mb), got "
       "200"},
      {"default_timeout 0",
       [](FlagValues& f) { f.default_timeout = absl::ZeroDuration(); },
       "default_timeout", "must be a positive finite duration, got 0"},
      {"max_timeout -1s",
       [](FlagValues& f) { f.max_timeout = absl::Seconds(-1); }, "max_timeout",
       "must be a positive finite duration, got -1s"},
      {"connect_timeout 0",
       [](FlagValues& f) { f.connect_timeout = absl::ZeroDuration(); },
       "connect_timeout", "must be a positive finite duration, got 0"},
      {"connect_timeout inf",
       [](FlagValues& f) { f.connect_timeout = absl::InfiniteDuration(); },
       "connect_timeout", "must be a positive finite duration, got inf"},
      {"trim -1", [](FlagValues& f) { f.trim_after_burst = -1; },
       "trim_after_burst", "must be at least 0, got -1"},
      {"download -1", [](FlagValues& f) { f.max_download_mb = -1; },
       "max_download_mb", "must be at least 0, got -1"},
      {"upload -1", [](FlagValues& f) { f.max_upload_mb = -1; },
       "max_upload_mb", "must be at least 0, got -1"},
      {"grace -1s", [](FlagValues& f) { f.shutdown_grace = absl::Seconds(-1); },
       "shutdown_grace", "must be a finite duration of at least 0, got -1s"},
      {"grace inf",
       [](FlagValues& f) { f.shutdown_grace = absl::InfiniteDuration(); },
       "shutdown_grace", "must be a finite duration of at least 0, got inf"},
  };
}

TEST(ConfigFromFlagsTest, EachOutOfRangeValueIsRefusedByName) {
  for (const Row& row : BadRows()) {
    SCOPED_TRACE(row.name);
    FlagValues flags;
    row.set(flags);
    absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(config.status().message(),
              absl::StrCat("--", row.flag, ": ", row.error));
  }
}

// A value that came from the environment names its variable, so every flag
// that can be refused has one in FlagEnvironment().
TEST(ConfigFromFlagsTest, AValueFromTheEnvironmentNamesTheVariable) {
  for (const Row& row : BadRows()) {
    SCOPED_TRACE(row.name);
    FlagValues flags;
    row.set(flags);
    flags.from_env.insert(row.flag);
    absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
    ASSERT_FALSE(config.ok());
    std::string env;
    for (const FlagEnv& entry : FlagEnvironment()) {
      if (entry.flag == std::string(row.flag)) env = entry.env;
    }
    ASSERT_FALSE(env.empty()) << row.flag << " has no variable";
    EXPECT_THAT(std::string(config.status().message()),
                StartsWith(absl::StrCat("--", row.flag, " (env ", env,
                                        "): ", row.error.substr(0, 10))));
  }
  FlagValues flags;
  flags.max_queue = -1;
  flags.from_env.insert("max_queue");
  EXPECT_EQ(Error(flags),
            "--max_queue (env GITLAB_GATEWAY_MAX_QUEUE): must be at least 0, "
            "got -1");
}

TEST(ConfigFromFlagsTest, EveryProblemIsReportedAtOnce) {
  FlagValues flags;
  flags.max_queue = -1;
  flags.retry_budget_ratio = 2;
  flags.max_response_mb = 0;
  EXPECT_EQ(Error(flags),
            "--max_queue: must be at least 0, got -1; --max_response_mb: must "
            "be at least 1, got 0; --retry_budget_ratio: must be between 0 "
            "and 1, got 2");
}

// The edges of each range are accepted and used as given.
TEST(ConfigFromFlagsTest, EdgeValuesAreAccepted) {
  FlagValues flags;
  flags.max_in_flight = 1;
  flags.max_queue = 0;
  flags.batch_window = 1;
  flags.rate_limit_per_minute = 0;
  flags.rate_limit_burst = 1;
  flags.rate_limit_per_hour = 60;
  flags.retry_max_attempts = 1;
  flags.retry_base = absl::Milliseconds(1);
  flags.retry_cap = absl::Milliseconds(1);
  flags.retry_budget_min = 0;
  flags.paginate_max_pages = 1;
  flags.paginate_prefetch = 1;
  flags.max_response_mb = 1;
  flags.stream_budget_mb = 1;
  flags.memory_budget_mb = 1;
  flags.trim_after_burst = 0;
  flags.max_download_mb = 0;
  flags.max_upload_mb = 3;
  flags.shutdown_grace = absl::ZeroDuration();
  for (double ratio : {0.0, 1.0}) {
    flags.retry_budget_ratio = ratio;
    absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->engine.max_in_flight, 1);
    EXPECT_EQ(config->engine.max_queue, 0u);
    EXPECT_EQ(config->batch_window, 1);
    EXPECT_EQ(config->upstream.limiter.per_minute, 0);
    EXPECT_EQ(config->upstream.limiter.burst, 1);
    EXPECT_EQ(config->upstream.limiter.per_hour, 60);
    EXPECT_EQ(config->upstream.retry.max_attempts, 1);
    EXPECT_EQ(config->upstream.retry_budget_ratio, ratio);
    EXPECT_EQ(config->upstream.retry_budget_min, 0);
    EXPECT_EQ(config->paginate.max_pages, 1);
    EXPECT_EQ(config->paginate.prefetch, 1);
    EXPECT_EQ(config->stream_budget_bytes, size_t{1} << 20);
    EXPECT_EQ(config->memory_budget_bytes, size_t{1} << 20);
    EXPECT_EQ(config->trim.burst, 0u);
    EXPECT_EQ(config->max_download_bytes, 0u);  // unlimited
    EXPECT_EQ(config->max_upload_bytes, uint64_t{3} << 20);
  }
}

TEST(ConfigFromFlagsTest, BadUrlAndTokenTypeNameTheirFlags) {
  FlagValues flags;
  flags.gitlab_url = "ftp://gitlab.example";
  EXPECT_THAT(Error(flags), StartsWith("--gitlab_url: gitlab base URL: "));
  flags = FlagValues();
  flags.token_type = "root";
  flags.from_env.insert("token_type");
  EXPECT_THAT(Error(flags),
              StartsWith("--token_type (env GITLAB_TOKEN_TYPE): "));
}

// The default credential: token_file first, else GITLAB_TOKEN, else none;
// a refused token is never echoed.
TEST(ConfigFromFlagsTest, DefaultCredentialComesFromTheFileOrTheVariable) {
  FlagValues flags;
  flags.token_type = "oauth";
  flags.gitlab_token = "env-token";
  absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->upstream.default_credential.has_value());
  EXPECT_EQ(config->upstream.default_credential->kind,
            gitlab::TokenKind::kOAuth);
  EXPECT_EQ(config->upstream.default_credential->token, "env-token");

  std::string path = ::testing::TempDir() + "config_from_flags_token";
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("file-token\n", file);
  std::fclose(file);
  flags.token_file = path;
  config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->upstream.default_credential->token, "file-token");
  unlink(path.c_str());

  // The file is gone.
  EXPECT_THAT(Error(flags), StartsWith("--token_file: "));

  flags = FlagValues();
  flags.gitlab_token = "bad token\nwith a newline";
  EXPECT_THAT(Error(flags), StartsWith("env GITLAB_TOKEN: "));
  EXPECT_THAT(Error(flags), Not(HasSubstr("bad token")));
}

// Named credentials and the policy file are read at start; a bad one stops
// the gateway naming the flag (and its variable).
TEST(ConfigFromFlagsTest, CredentialsDirAndPolicyFileAreCheckedAtStart) {
  const std::string dir = ::testing::TempDir() + "config_from_flags_creds";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directory(dir);
  std::ofstream(dir + "/readonly") << "oauth:ro-token\n";
  const std::string policy = ::testing::TempDir() + "config_from_flags_policy";
  std::ofstream(policy) << R"({"callers": [{"name": "ci",
      "credentials": ["readonly", "default"]}]})";

  FlagValues flags;
  flags.gitlab_token = "env-token";
  flags.credentials_dir = dir;
  flags.policy_file = policy;
  flags.allow_anonymous_default_token = true;
  absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_NE(config->upstream.named_credentials, nullptr);
  EXPECT_EQ(config->upstream.named_credentials->at("readonly").kind,
            gitlab::TokenKind::kOAuth);
  EXPECT_EQ(config->policy_file, policy);
  EXPECT_TRUE(config->upstream.allow_anonymous_default_token);

  // "default" needs a default token.
  flags.gitlab_token = "";
  EXPECT_THAT(Error(flags),
              StartsWith(absl::StrCat("--policy_file: \"", policy, "\": ")));
  flags.from_env.insert("policy_file");
  EXPECT_THAT(Error(flags),
              StartsWith("--policy_file (env GITLAB_GATEWAY_POLICY_FILE): "));

  std::ofstream(dir + "/default") << "x-token";
  flags.gitlab_token = "env-token";
  EXPECT_THAT(Error(flags), StartsWith("--credentials_dir: "));
  EXPECT_THAT(Error(flags), HasSubstr("reserved"));
  std::filesystem::remove_all(dir);
  std::filesystem::remove(policy);
}

}  // namespace
}  // namespace gitlab_gateway::server
