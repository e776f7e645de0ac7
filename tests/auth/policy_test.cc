// Policy::FromJson: protobuf's JSON mapping, checked against the
// credentials the gateway holds; every error names the rule and field.
#include "service/auth/policy.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::auth {
namespace {

using ::testing::HasSubstr;

const absl::flat_hash_set<std::string> kHeld = {"default", "readonly",
                                                "release-bot"};

TEST(PolicyTest, ParsesRulesInEitherFieldSpelling) {
  auto policy = Policy::FromJson(R"({
    "callers": [
      {"name": "ci-bot", "credentials": ["readonly", "default"],
       "defaultCredential": "readonly", "methods": ["get", "HEAD"],
       "paths": ["/projects/:id/issues/*"], "sudo": {"users": ["Alice"]},
       "graphql": true, "calls_per_minute": 60, "max_body_bytes": 1024}
    ],
    "own_credentials_need_rule": true})",
                                 kHeld);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const CallerRule* rule = (*policy)->Find("ci-bot");
  ASSERT_NE(rule, nullptr);
  EXPECT_TRUE(rule->credentials.contains("readonly"));
  EXPECT_EQ(rule->default_credential, "readonly");
  EXPECT_TRUE(rule->methods.contains("GET"));
  EXPECT_EQ(rule->paths.size(), 1u);
  EXPECT_TRUE(rule->sudo_users.contains("alice"));
  EXPECT_TRUE(rule->graphql);
  EXPECT_EQ(rule->calls_per_minute, 60);
  EXPECT_EQ(rule->burst, 6);
  EXPECT_EQ(rule->max_body_bytes, 1024);
  EXPECT_TRUE((*policy)->own_credentials_need_rule());
  EXPECT_EQ((*policy)->Find("other"), nullptr);
}

TEST(PolicyTest, EmptyObjectIsAPolicyWithoutRules) {
  auto policy = Policy::FromJson("{}", kHeld);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ((*policy)->size(), 0u);
}

struct BadRow {
  const char* json;
  const char* message;
};

void PrintTo(const BadRow& row, std::ostream* os) { *os << row.message; }

class PolicyErrorTest : public ::testing::TestWithParam<BadRow> {};

TEST_P(PolicyErrorTest, Row) {
  auto policy = Policy::FromJson(GetParam().json, kHeld);
  ASSERT_FALSE(policy.ok()) << GetParam().json;
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(policy.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, PolicyErrorTest,
    ::testing::Values(
        BadRow{"not json", "not a gitlab.gateway.v1.Policy"},
        BadRow{R"({"callerz": []})", "not a gitlab.gateway.v1.Policy"},
        BadRow{R"({"callers": [{"name": "a", "method": ["GET"]}]})",
               "not a gitlab.gateway.v1.Policy"},
        BadRow{R"({"callers": [{}]})", "callers[0].name: must not be empty"},
        BadRow{R"({"callers": [{"name": "anonymous"}]})",
               "callers[0] (\"anonymous\").name"},
        BadRow{R"({"callers": [{"name": "a"}, {"name": "a"}]})",
               "callers[1] (\"a\").name: a rule for it already exists"},
        BadRow{R"({"callers": [{"name": "a", "credentials": ["admin"]}]})",
               "holds no credential \"admin\" (it holds: default, readonly, "
               "release-bot)"},
        BadRow{R"({"callers": [{"name": "a", "credentials": ["readonly"],
                   "default_credential": "default"}]})",
               "default_credential: must be one of the rule's credentials"},
        BadRow{R"({"callers": [{"name": "a", "methods": ["TRACE"]}]})",
               "methods: unknown method \"TRACE\""},
        BadRow{R"({"callers": [{"name": "a", "paths": ["/a/*/b"]}]})",
               "paths[0]:"},
        BadRow{R"({"callers": [{"name": "a", "paths": ["/a/../b"]}]})",
               "paths[0]:"},
        BadRow{R"({"callers": [{"name": "a", "calls_per_minute": -1}]})",
               "calls_per_minute"},
        BadRow{R"({"callers": [{"name": "a", "max_body_bytes": -1}]})",
               "max_body_bytes"},
        BadRow{R"({"callers": [{"name": "a", "sudo": {"users": [""]}}]})",
               "sudo.users: must not be empty"}));

// The policy shipped in k8s/base (README's example too) is one the gateway
// accepts, with the credentials the example overlay provides.
TEST(PolicyTest, TheKubernetesBasePolicyLoads) {
  std::ifstream in(std::string(GG_SOURCE_DIR) + "/k8s/base/policy.json");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  auto policy = Policy::FromJson(text.str(), {"default", "readonly"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_GE((*policy)->size(), 2u);
  EXPECT_NE((*policy)->Find("release-bot"), nullptr);
}

TEST(PolicyTest, OversizedFileIsRefused) {
  std::string big = R"({"callers": [{"name": ")" +
                    std::string(kMaxPolicyBytes, 'a') + R"("}]})";
  auto policy = Policy::FromJson(big, kHeld);
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(policy.status().message(), HasSubstr("larger than"));
}

}  // namespace
}  // namespace gitlab_gateway::auth
