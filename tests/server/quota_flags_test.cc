// --quota_redis_url, --quota_redis_password_file, --quota_redis_timeout and
// --quota_replicas (issue 14): parsed into GatewayConfig::shared_quota, bad
// values refused by name, the password never echoed.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/server/config_from_flags.h"

namespace gitlab_gateway::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Error(const FlagValues& flags) {
  return std::string(ConfigFromFlags(flags).status().message());
}

std::string TempFile(const std::string& content) {
  char path[] = "/tmp/gg-quota-flags-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

TEST(QuotaFlagsTest, WithoutTheUrlNothingUsesRedis) {
  absl::StatusOr<GatewayConfig> config = ConfigFromFlags(FlagValues());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->shared_quota.redis.has_value());
  EXPECT_EQ(config->shared_quota.timeout, absl::Milliseconds(50));
  EXPECT_EQ(config->shared_quota.replicas, 2);
}

TEST(QuotaFlagsTest, DefaultReplicasIsTheHpaMinimum) {
  std::string path = absl::StrCat(GG_SOURCE_DIR, "/k8s/base/hpa.yaml");
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(),
              HasSubstr(absl::StrCat(
                  "minReplicas: ", FlagValues().quota_replicas, "\n")));
}

TEST(QuotaFlagsTest, UrlGivesHostPortDatabaseAndPassword) {
  FlagValues flags;
  flags.quota_redis_url = "redis://:s3cret@redis.quota:6380/2";
  flags.quota_redis_timeout = absl::Milliseconds(20);
  flags.quota_replicas = 5;
  absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->shared_quota.redis.has_value());
  EXPECT_EQ(config->shared_quota.redis->host, "redis.quota");
  EXPECT_EQ(config->shared_quota.redis->port, 6380);
  EXPECT_EQ(config->shared_quota.redis->db, 2);
  EXPECT_EQ(config->shared_quota.redis->password, "s3cret");
  EXPECT_EQ(config->shared_quota.timeout, absl::Milliseconds(20));
  EXPECT_EQ(config->shared_quota.replicas, 5);

  flags.quota_redis_url = "redis-master";  // scheme, port and db optional
  config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->shared_quota.redis->port, 6379);
  EXPECT_EQ(config->shared_quota.redis->db, 0);
}

TEST(QuotaFlagsTest, PasswordFromTheFileOrTheVariable) {
  FlagValues flags;
  flags.quota_redis_url = "redis://127.0.0.1:6379/0";
  std::string file = TempFile("from-file\n");
  flags.quota_redis_password_file = file;
  absl::StatusOr<GatewayConfig> config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->shared_quota.redis->password, "from-file");

  flags.quota_redis_password_file.clear();
  flags.quota_redis_password = "from-env";
  config = ConfigFromFlags(flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->shared_quota.redis->password, "from-env");

  // Two sources: refused, and no secret in the message.
  flags.quota_redis_password_file = file;
  EXPECT_THAT(Error(flags), HasSubstr("more than once"));
  EXPECT_THAT(Error(flags), Not(HasSubstr("from-")));
  std::remove(file.c_str());
}

TEST(QuotaFlagsTest, BadValuesAreRefusedByName) {
  struct Case {
    std::function<void(FlagValues&)> set;
    std::string expected;
  };
  const Case cases[] = {
      {[](FlagValues& f) { f.quota_redis_url = "http://redis:6379"; },
       "--quota_redis_url: must start with redis://"},
      {[](FlagValues& f) { f.quota_redis_url = "redis://:pw@host:0"; },
       "--quota_redis_url: port must be a number 1..65535"},
      {[](FlagValues& f) { f.quota_redis_url = "redis://host:6379/x"; },
       "--quota_redis_url: database must be a number 0..15"},
      {[](FlagValues& f) { f.quota_redis_url = "redis://user:pw@host"; },
       "--quota_redis_url: credentials must be"},
      {[](FlagValues& f) { f.quota_redis_url = "redis://:6379"; },
       "--quota_redis_url: host must not be empty"},
      {[](FlagValues& f) { f.quota_redis_timeout = absl::ZeroDuration(); },
       "--quota_redis_timeout: must be a positive finite duration"},
      {[](FlagValues& f) { f.quota_redis_timeout = absl::Seconds(11); },
       "--quota_redis_timeout: must be at most 10s"},
      {[](FlagValues& f) { f.quota_replicas = 0; },
       "--quota_replicas: must be at least 1, got 0"},
      {[](FlagValues& f) { f.quota_replicas = 1001; },
       "--quota_replicas: must be at most 1000"},
      {[](FlagValues& f) { f.quota_redis_password_file = "/nonexistent"; },
       "--quota_redis_password_file: is set but --quota_redis_url is not"},
      {[](FlagValues& f) {
         f.quota_redis_url = "redis://host";
         f.quota_redis_password_file = "/nonexistent/pw";
       },
       "--quota_redis_password_file: cannot be read"},
  };
  for (const Case& c : cases) {
    FlagValues flags;
    c.set(flags);
    EXPECT_THAT(Error(flags), HasSubstr(c.expected)) << c.expected;
  }
  FlagValues flags;
  flags.quota_redis_url = "redis://:hunter2@host:99999";
  EXPECT_THAT(Error(flags), Not(HasSubstr("hunter2")));
}

TEST(QuotaFlagsTest, EmptyOrMultiLinePasswordFileIsRefused) {
  FlagValues flags;
  flags.quota_redis_url = "redis://host";
  std::string empty = TempFile("\n");
  flags.quota_redis_password_file = empty;
  EXPECT_THAT(Error(flags), HasSubstr("--quota_redis_password_file: is empty"));
  std::string two = TempFile("a\nb\n");
  flags.quota_redis_password_file = two;
  EXPECT_THAT(Error(flags), HasSubstr("must hold the password on one line"));
  std::remove(empty.c_str());
  std::remove(two.c_str());
}

TEST(QuotaFlagsTest, AValueFromTheEnvironmentNamesTheVariable) {
  FlagValues flags;
  flags.quota_replicas = 0;
  flags.from_env.insert("quota_replicas");
  EXPECT_THAT(
      Error(flags),
      HasSubstr("--quota_replicas (env GITLAB_GATEWAY_QUOTA_REPLICAS)"));
}

}  // namespace
}  // namespace gitlab_gateway::server
