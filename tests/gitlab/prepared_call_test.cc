// Prepare: one pass from a caller's Request to what the attempt loop sends,
// and CallDeadline as the README documents it.
#include "service/gitlab/prepared_call.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

PrepareOptions Options() {
  PrepareOptions options;
  options.base_url = *ParseBaseUrl("https://gitlab.example/gitlab");
  options.default_credential = Credential{TokenKind::kPrivate, "gateway-token"};
  options.default_timeout = absl::Seconds(30);
  options.max_timeout = absl::Minutes(10);
  return options;
}

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST(PrepareTest, BuildsTheExchangeOnceWithTheDefaultCredential) {
  v1::Request request;
  request.set_id("r1");
  request.set_method("post");
  request.set_path("/projects/group%2Fdemo/issues/7/notes");
  request.set_text(R"({"body":"hi"})");
  request.set_sudo("alice");
  v1::Header* header = request.add_headers();
  header->set_name("X-Empty");
  PreparedCall call;
  ASSERT_TRUE(Prepare(request, Options(), absl::InfiniteFuture(), kNow, &call).ok());
  EXPECT_EQ(call.id, "r1");
  EXPECT_EQ(call.http.method, "POST");
  EXPECT_EQ(call.http.url,
            "https://gitlab.example/gitlab/api/v4/projects/group%2Fdemo/issues/7/notes");
  EXPECT_THAT(call.http.header_lines,
              ElementsAre("PRIVATE-TOKEN: gateway-token", "Sudo: alice",
                          "X-Empty;", "Content-Type: application/json"));
  EXPECT_EQ(call.http.body, R"({"body":"hi"})");
  // GitLab's own template (gitlab/route_catalog).
  EXPECT_EQ(call.route, "/projects/:id/issues/:issue_iid/notes");
  EXPECT_EQ(call.path, "/projects/group%2Fdemo/issues/7/notes");
  EXPECT_EQ(call.credential_class, "default");
  EXPECT_EQ(call.credential_key,
            CredentialKey(Credential{TokenKind::kPrivate, "gateway-token"}));
  EXPECT_FALSE(call.graphql);
}

TEST(PrepareTest, CallerCredentialsReplaceTheDefault) {
  v1::Request request;
  request.set_path("/user");
  request.mutable_credentials()->set_oauth_token("caller-token");
  request.set_content("\x01");
  request.set_method("PUT");
  PreparedCall call;
  ASSERT_TRUE(Prepare(request, Options(), absl::InfiniteFuture(), kNow, &call).ok());
  EXPECT_THAT(call.http.header_lines,
              ElementsAre("Authorization: Bearer caller-token",
                          "Content-Type: application/octet-stream"));
  EXPECT_EQ(call.credential_class, "caller");
  EXPECT_EQ(call.credential_key,
            CredentialKey(Credential{TokenKind::kOAuth, "caller-token"}));
}

TEST(PrepareTest, GraphqlGoesToTheGraphqlEndpoint) {
  v1::Request request;
  request.set_api(v1::API_GRAPHQL);
  request.set_text(R"({"query":"{ currentUser { id } }"})");
  PreparedCall call;
  ASSERT_TRUE(Prepare(request, Options(), absl::InfiniteFuture(), kNow, &call).ok());
  EXPECT_EQ(call.http.method, "POST");
  EXPECT_EQ(call.http.url, "https://gitlab.example/gitlab/api/graphql");
  EXPECT_EQ(call.route, "graphql");
  EXPECT_TRUE(call.graphql);
}

TEST(PrepareTest, CarriesMaxAttempts) {
  v1::Request request;
  request.set_path("/user");
  PreparedCall call;
  ASSERT_TRUE(Prepare(request, Options(), absl::InfiniteFuture(), kNow, &call).ok());
  EXPECT_EQ(call.max_attempts, 0);  // the gateway's setting
  request.set_max_attempts(1);
  ASSERT_TRUE(Prepare(request, Options(), absl::InfiniteFuture(), kNow, &call).ok());
  EXPECT_EQ(call.max_attempts, 1);
  request.set_max_attempts(-3);
  grpc::Status status =
      Prepare(request, Options(), absl::InfiniteFuture(), kNow, &call);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("max_attempts:"));
}

TEST(PrepareTest, RefusesInvalidInputNamingTheField) {
  v1::Request request;
  request.set_path("/projects/../admin");
  PreparedCall call;
  grpc::Status status =
      Prepare(request, Options(), absl::InfiniteFuture(), kNow, &call);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("path:"));
}

v1::Request WithTimeout(absl::Duration timeout) {
  v1::Request request;
  request.mutable_timeout()->set_seconds(absl::ToInt64Seconds(timeout));
  return request;
}

TEST(CallDeadlineTest, TheRpcDeadlineBoundsACallWithoutTimeout) {
  // A 65 s RPC deadline is not cut at the 30 s default.
  EXPECT_EQ(CallDeadline(v1::Request(), kNow + absl::Seconds(65), kNow, Options()),
            kNow + absl::Seconds(65));
}

TEST(CallDeadlineTest, TheDefaultAppliesOnlyWhenNothingElseDoes) {
  EXPECT_EQ(CallDeadline(v1::Request(), absl::InfiniteFuture(), kNow, Options()),
            kNow + absl::Seconds(30));
}

TEST(CallDeadlineTest, RequestTimeoutIsCappedAndBoundedByTheRpcDeadline) {
  const PrepareOptions options = Options();
  EXPECT_EQ(CallDeadline(WithTimeout(absl::Seconds(5)), absl::InfiniteFuture(),
                         kNow, options),
            kNow + absl::Seconds(5));
  EXPECT_EQ(CallDeadline(WithTimeout(absl::Hours(2)), absl::InfiniteFuture(),
                         kNow, options),
            kNow + absl::Minutes(10));
  EXPECT_EQ(CallDeadline(WithTimeout(absl::Seconds(50)),
                         kNow + absl::Seconds(20), kNow, options),
            kNow + absl::Seconds(20));
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
