// Every policy rule end to end, through the gateway's UpstreamCaller as an
// authenticated auth::Caller: an allowed call reaches the fake GitLab with
// the right credential; a refused one reaches nothing.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/policy_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPolicy[] = R"({"callers": [
  {"name": "reader", "credentials": ["readonly"],
   "default_credential": "readonly", "methods": ["GET", "HEAD"],
   "paths": ["/projects/:id/issues/*", "/projects/group%2Fdemo/*", "/user"]},
  {"name": "bot", "credentials": ["release-bot", "default"],
   "sudo": {"users": ["alice"]}, "graphql": true, "max_body_bytes": 16},
  {"name": "limited", "credentials": ["default"], "calls_per_minute": 1,
   "burst": 2}]})";

class PolicyRulesTest : public ::testing::Test {
 protected:
  PolicyRulesTest() : h_(SecureConfig(dir_, kPolicy)) {}

  // A refusal: PERMISSION_DENIED naming the caller and `rule`, nothing sent.
  void ExpectDenied(const std::string& caller, const v1::Request& request,
                    const std::string& rule) {
    const size_t before = h_.fake.request_count();
    grpc::Status status = CallAs(h_, Bearer(caller), request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << rule << ": " << status.error_message();
    EXPECT_THAT(status, HasReason("CALLER_NOT_ALLOWED"));
    EXPECT_EQ(InfoMetadata(status, "caller"), caller);
    EXPECT_EQ(InfoMetadata(status, "rule"), rule);
    EXPECT_EQ(h_.fake.request_count(), before) << rule;
  }

  // An allowed call: OK, and the last request GitLab saw.
  RecordedRequest ExpectAllowed(const std::string& caller,
                                const v1::Request& request) {
    const size_t before = h_.fake.request_count();
    grpc::Status status = CallAs(h_, Bearer(caller), request);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(h_.fake.request_count(), before + 1);
    return h_.fake.requests().back();
  }

  PolicyDir dir_;
  GatewayHarness h_;
};

TEST_F(PolicyRulesTest, CredentialsTheCallersDefaultAndTheListed) {
  RecordedRequest r = ExpectAllowed("reader", Get("/user"));
  EXPECT_EQ(r.Header("PRIVATE-TOKEN"), kReadonlyToken);
  v1::Request bot = Get("/user");
  bot.set_credential_name("release-bot");
  r = ExpectAllowed("bot", bot);
  EXPECT_EQ(r.Header("Authorization"), absl::StrCat("Bearer ", kBotToken));
  EXPECT_FALSE(r.Header("PRIVATE-TOKEN").has_value());
  // Without a default_credential the default token is the fallback.
  r = ExpectAllowed("bot", Get("/user"));
  EXPECT_EQ(r.Header("PRIVATE-TOKEN"), kDefaultToken);
}

TEST_F(PolicyRulesTest, CredentialsNotListedAreRefused) {
  v1::Request request = Get("/user");
  request.set_credential_name("release-bot");
  ExpectDenied("reader", request, "credentials");
  request.set_credential_name("default");
  ExpectDenied("reader", request, "credentials");
  request.set_credential_name("readonly");
  ExpectDenied("bot", request, "credentials");
}

TEST_F(PolicyRulesTest, Methods) {
  v1::Request head = Get("/user");
  head.set_method("HEAD");
  ExpectAllowed("reader", head);
  v1::Request post = Get("/projects/7/issues");
  post.set_method("POST");
  post.set_text("{}");
  ExpectDenied("reader", post, "methods");
  v1::Request del = Get("/user");
  del.set_method("delete");
  ExpectDenied("reader", del, "methods");
}

TEST_F(PolicyRulesTest, PathsTemplatesAndPrefixes) {
  ExpectAllowed("reader", Get("/projects/7/issues"));
  ExpectAllowed("reader", Get("/projects/other%2Fproj/issues/3/notes"));
  ExpectAllowed("reader", Get("/projects/group%2Fdemo/merge_requests"));
  ExpectAllowed("reader", Get("/projects/group%2fdemo/repository/tree"));
}

TEST_F(PolicyRulesTest, PathsOutsideAreRefusedWhateverTheEncoding) {
  for (const char* path :
       {"/users", "/projects/7/merge_requests", "/projects/7/issuesx",
        "/projects/group/demo/merge_requests",
        "/projects/group%2Fdemo%2Fsecret/members",
        "/projects/7/issues%2Fx/members", "/projects/group%252Fdemo/members",
        "/user/keys"}) {
    SCOPED_TRACE(path);
    ExpectDenied("reader", Get(path), "paths");
  }
  // Dot segments never get as far as the policy: refused as bad input.
  for (const char* path : {"/projects/7/issues/%2e%2e/%2e%2e/members",
                           "/projects/group%2Fdemo/..%2F..%2Fusers",
                           "/projects/group%2Fdemo%2F..%2Fsecret/members",
                           "/projects/7/issues%2F..%2F..%2Fmembers"}) {
    SCOPED_TRACE(path);
    grpc::Status status = CallAs(h_, Bearer("reader"), Get(path));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_EQ(h_.fake.request_count(), 0u);
}

TEST_F(PolicyRulesTest, Sudo) {
  v1::Request alice = Get("/user");
  alice.set_sudo("Alice");
  RecordedRequest r = ExpectAllowed("bot", alice);
  EXPECT_EQ(r.Header("Sudo"), "Alice");
  v1::Request root = Get("/user");
  root.set_sudo("root");
  ExpectDenied("bot", root, "sudo");
  ExpectDenied("reader", alice, "sudo");
}

TEST_F(PolicyRulesTest, Graphql) {
  v1::Request graphql;
  graphql.set_api(v1::API_GRAPHQL);
  graphql.set_text(R"({"query":"{a}"})");
  RecordedRequest r = ExpectAllowed("bot", graphql);
  EXPECT_EQ(r.path, "/api/graphql");
  graphql.set_credential_name("readonly");
  ExpectDenied("reader", graphql, "graphql");
}

TEST_F(PolicyRulesTest, MaxBodyBytes) {
  v1::Request small = Get("/projects/7/issues");
  small.set_method("POST");
  small.set_text(std::string(16, 'x'));
  ExpectAllowed("bot", small);
  v1::Request big = small;
  big.set_content(std::string(17, 'x'));
  ExpectDenied("bot", big, "max_body_bytes");
}

TEST_F(PolicyRulesTest, CallsPerMinuteOnTopOfTheCredentialBucket) {
  ExpectAllowed("limited", Get("/user"));
  ExpectAllowed("limited", Get("/user"));
  const size_t before = h_.fake.request_count();
  grpc::Status status = CallAs(h_, Bearer("limited"), Get("/user"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status, HasReason("CALLER_RATE_LIMITED"));
  EXPECT_EQ(InfoMetadata(status, "caller"), "limited");
  auto retry = OnlyDetail<google::rpc::RetryInfo>(status);
  EXPECT_GT(retry.retry_delay().seconds(), 0);
  EXPECT_EQ(h_.fake.request_count(), before);
  // Another caller on the same credential is not held back.
  ExpectAllowed("bot", Get("/user"));
}

TEST_F(PolicyRulesTest, RefusalsNeverCarryTokensOrPaths) {
  v1::Request request = Get("/projects/secret-project-path/members");
  request.set_sudo("secret-user");
  grpc::Status status = CallAs(h_, Bearer("reader"), request);
  ASSERT_FALSE(status.ok());
  for (const char* secret : {"secret", kReadonlyToken, kDefaultToken}) {
    EXPECT_THAT(status.error_message(), Not(HasSubstr(secret)));
    EXPECT_THAT(status.error_details(), Not(HasSubstr(secret)));
  }
}

}  // namespace
}  // namespace gitlab_gateway::testing
