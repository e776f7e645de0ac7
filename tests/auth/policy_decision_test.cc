// Decide: every rule has an allow row and a deny row; callers are plain
// auth::Caller values (no gRPC).
#include "service/auth/policy_decision.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/auth/caller_rate_limiter.h"

namespace gitlab_gateway::auth {
namespace {

using ::testing::HasSubstr;
using Verdict = Decision::Verdict;

const absl::flat_hash_set<std::string> kHeld = {"default", "readonly",
                                                "release-bot"};

std::shared_ptr<const Policy> MakePolicy(absl::string_view json) {
  auto policy = Policy::FromJson(json, kHeld);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : Policy::Empty();
}

const Caller kCi{"ci-bot", Caller::Via::kBearer};
const Caller kStranger{"stranger", Caller::Via::kCertificate};
const Caller kAnonymous{};

CallFacts Get(absl::string_view path,
              absl::string_view credential = "default") {
  CallFacts facts;
  facts.method = "GET";
  facts.path = path;
  facts.credential_name = credential;
  return facts;
}

Decision Check(const Policy& policy, const Caller& caller,
               const CallFacts& facts, bool allow_anonymous = false) {
  return Decide(policy, caller, facts, PolicyOptions{allow_anonymous});
}

TEST(SecureDefaultTest, AnonymousMayNotSpendTheDefaultToken) {
  Decision d = Check(*Policy::Empty(), kAnonymous, Get("/projects"));
  EXPECT_EQ(d.verdict, Verdict::kUnauthenticated);
  d = Check(*Policy::Empty(), kAnonymous, Get("/projects", "readonly"));
  EXPECT_EQ(d.verdict, Verdict::kUnauthenticated);
}

TEST(SecureDefaultTest, AuthenticatedWithoutRuleIsNotAllowed) {
  Decision d = Check(*Policy::Empty(), kStranger, Get("/projects"));
  EXPECT_EQ(d.verdict, Verdict::kNotAllowed);
  EXPECT_EQ(d.rule, "callers");
  EXPECT_THAT(d.message, HasSubstr("\"stranger\""));
}

TEST(SecureDefaultTest, AllowAnonymousDefaultTokenRestoresTheOldBehaviour) {
  EXPECT_TRUE(
      Check(*Policy::Empty(), kAnonymous, Get("/projects"), true).allowed());
  EXPECT_TRUE(
      Check(*Policy::Empty(), kStranger, Get("/projects"), true).allowed());
  // Only the default token: named credentials still need a rule.
  EXPECT_EQ(
      Check(*Policy::Empty(), kAnonymous, Get("/p", "readonly"), true).verdict,
      Verdict::kUnauthenticated);
}

TEST(SecureDefaultTest, OwnCredentialsAndNoCredentialNeedNoCaller) {
  EXPECT_TRUE(Check(*Policy::Empty(), kAnonymous, Get("/projects", "request"))
                  .allowed());
  EXPECT_TRUE(
      Check(*Policy::Empty(), kAnonymous, Get("/projects", "none")).allowed());
}

TEST(SecureDefaultTest, OwnCredentialsNeedARuleWhenThePolicySaysSo) {
  auto policy = MakePolicy(
      R"({"own_credentials_need_rule": true, "callers": [{"name": "ci-bot"}]})");
  EXPECT_EQ(Check(*policy, kAnonymous, Get("/p", "request")).verdict,
            Verdict::kUnauthenticated);
  Decision d = Check(*policy, kStranger, Get("/p", "request"));
  EXPECT_EQ(d.verdict, Verdict::kNotAllowed);
  EXPECT_EQ(d.rule, "own_credentials_need_rule");
  EXPECT_TRUE(Check(*policy, kCi, Get("/p", "request")).allowed());
}

TEST(RuleTest, AnAnonymousCallerNeverMatchesARuleOfTheSameName) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
                                "credentials": ["default"]}]})");
  Caller unproven{"ci-bot", Caller::Via::kNone};
  EXPECT_EQ(Check(*policy, unproven, Get("/p")).verdict,
            Verdict::kUnauthenticated);
  EXPECT_TRUE(Check(*policy, kCi, Get("/p")).allowed());
}

TEST(RuleTest, Credentials) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
                                "credentials": ["readonly"]}]})");
  Decision allowed = Check(*policy, kCi, Get("/p", "readonly"));
  EXPECT_TRUE(allowed.allowed());
  EXPECT_NE(allowed.caller_rule, nullptr);
  for (const char* other : {"default", "release-bot"}) {
    Decision d = Check(*policy, kCi, Get("/p", other));
    EXPECT_EQ(d.verdict, Verdict::kNotAllowed) << other;
    EXPECT_EQ(d.rule, "credentials") << other;
  }
  // The caller's own credentials are not the gateway's to give.
  EXPECT_TRUE(Check(*policy, kCi, Get("/p", "request")).allowed());
}

TEST(RuleTest, DefaultCredentialIsThePreparedFallback) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "credentials": ["readonly"], "default_credential": "readonly"}]})");
  EXPECT_EQ(FallbackCredential(*policy, kCi), "readonly");
  EXPECT_EQ(FallbackCredential(*policy, kStranger), "");
  EXPECT_EQ(FallbackCredential(*policy, Caller{"ci-bot", Caller::Via::kNone}),
            "");
}

TEST(RuleTest, Methods) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "credentials": ["default"], "methods": ["GET"]}]})");
  EXPECT_TRUE(Check(*policy, kCi, Get("/p")).allowed());
  CallFacts post = Get("/p");
  post.method = "POST";
  Decision d = Check(*policy, kCi, post);
  EXPECT_EQ(d.rule, "methods");
  EXPECT_EQ(d.verdict, Verdict::kNotAllowed);
}

TEST(RuleTest, Paths) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "credentials": ["default"],
      "paths": ["/projects/:id/issues/*", "/user"]}]})");
  EXPECT_TRUE(Check(*policy, kCi, Get("/projects/g%2Fp/issues/3")).allowed());
  EXPECT_TRUE(Check(*policy, kCi, Get("/user")).allowed());
  for (const char* path : {"/users", "/projects/7/merge_requests",
                           "/projects/7/issues/..%2F..%2Fmembers",
                           "/projects/7/issues/%2e%2e/%2e%2e/members"}) {
    Decision d = Check(*policy, kCi, Get(path));
    EXPECT_EQ(d.rule, "paths") << path;
    EXPECT_THAT(d.message, ::testing::Not(HasSubstr(path)));
  }
}

TEST(RuleTest, Graphql) {
  auto with = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "credentials": ["default"], "graphql": true, "methods": ["GET"],
      "paths": ["/user"]}]})");
  auto without = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "credentials": ["default"]}]})");
  CallFacts graphql = Get("/api/graphql");
  graphql.method = "POST";
  graphql.graphql = true;
  EXPECT_TRUE(Check(*with, kCi, graphql).allowed());
  EXPECT_EQ(Check(*without, kCi, graphql).rule, "graphql");
}

TEST(RuleTest, Sudo) {
  auto policy = MakePolicy(R"({"callers": [
      {"name": "ci-bot", "credentials": ["default"], "sudo": {"users": ["alice", "42"]}},
      {"name": "admin", "credentials": ["default"], "sudo": {"any_user": true}},
      {"name": "plain", "credentials": ["default"]}]})");
  CallFacts as_alice = Get("/user");
  as_alice.sudo = "ALICE";
  CallFacts as_bob = Get("/user");
  as_bob.sudo = "bob";
  EXPECT_TRUE(Check(*policy, kCi, as_alice).allowed());
  EXPECT_EQ(Check(*policy, kCi, as_bob).rule, "sudo");
  EXPECT_TRUE(
      Check(*policy, Caller{"admin", Caller::Via::kBearer}, as_bob).allowed());
  Caller plain{"plain", Caller::Via::kBearer};
  EXPECT_EQ(Check(*policy, plain, as_alice).rule, "sudo");
  EXPECT_TRUE(Check(*policy, plain, Get("/user")).allowed());
}

TEST(RuleTest, MaxBodyBytes) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "credentials": ["default"], "max_body_bytes": 10}]})");
  CallFacts small = Get("/p");
  small.body_bytes = 10;
  CallFacts big = Get("/p");
  big.body_bytes = 11;
  EXPECT_TRUE(Check(*policy, kCi, small).allowed());
  EXPECT_EQ(Check(*policy, kCi, big).rule, "max_body_bytes");
  // A streamed body of unknown size cannot be judged: refused by the limit.
  CallFacts streamed = Get("/p");
  streamed.body_size_unknown = true;
  EXPECT_EQ(Check(*policy, kCi, streamed).rule, "max_body_bytes");
}

TEST(RuleTest, AStreamedBodyOfUnknownSizeIsFineWithoutALimit) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "credentials": ["default"]}]})");
  CallFacts streamed = Get("/p");
  streamed.body_size_unknown = true;
  EXPECT_TRUE(Check(*policy, kCi, streamed).allowed());
}

TEST(RuleTest, RestrictionsApplyToOwnCredentialsToo) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "methods": ["GET"]}]})");
  CallFacts post = Get("/p", "request");
  post.method = "POST";
  EXPECT_EQ(Check(*policy, kCi, post).rule, "methods");
}

TEST(CallerRateLimiterTest, AllowsTheBurstThenRefusesUntilATokenFrees) {
  auto policy = MakePolicy(R"({"callers": [{"name": "ci-bot",
      "calls_per_minute": 60, "burst": 2}]})");
  const CallerRule& rule = *policy->Find("ci-bot");
  CallerRateLimiter limiter;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(limiter.Admit(rule, t0).has_value());
  EXPECT_FALSE(limiter.Admit(rule, t0).has_value());
  std::optional<absl::Duration> wait = limiter.Admit(rule, t0);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, absl::Milliseconds(500));
  EXPECT_LE(*wait, absl::Seconds(1));
  EXPECT_FALSE(limiter.Admit(rule, t0 + absl::Seconds(1)).has_value());
}

TEST(CallerRateLimiterTest, NoRateMeansNoLimitAndCallersAreSeparate) {
  auto policy = MakePolicy(R"({"callers": [
      {"name": "a", "calls_per_minute": 1, "burst": 1}, {"name": "b"}]})");
  CallerRateLimiter limiter;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(limiter.Admit(*policy->Find("a"), t0).has_value());
  EXPECT_TRUE(limiter.Admit(*policy->Find("a"), t0).has_value());
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(limiter.Admit(*policy->Find("b"), t0).has_value());
  }
}

}  // namespace
}  // namespace gitlab_gateway::auth
