// The secure default end to end: with a default token, only authenticated
// callers allowed by policy spend it; refusals send nothing upstream, and in
// BatchExecute the item fails, not the stream.
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/policy_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPolicy[] = R"({"callers": [
  {"name": "ci-bot", "credentials": ["default", "readonly"]}]})";

TEST(SecureDefaultTest, AnonymousCallersMayNotSpendTheDefaultToken) {
  PolicyDir dir;
  GatewayHarness h(SecureConfig(dir, kPolicy));
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status, HasReason("CALLER_UNAUTHENTICATED"));
  EXPECT_EQ(InfoMetadata(status, "caller"), "anonymous");
  // Naming a credential does not help.
  v1::Request named = Get("/projects");
  named.set_credential_name("readonly");
  status = h.Execute(named, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(SecureDefaultTest, AnonymousCallersWithTheirOwnCredentialsStillPass) {
  PolicyDir dir;
  GatewayHarness h(SecureConfig(dir, kPolicy));
  v1::Request request = Get("/user");
  request.mutable_credentials()->set_private_token("callers-own-token");
  v1::Response response;
  ASSERT_TRUE(h.Execute(request, &response).ok());
  ASSERT_EQ(h.fake.request_count(), 1u);
  EXPECT_EQ(h.fake.requests()[0].Header("PRIVATE-TOKEN"), "callers-own-token");
}

TEST(SecureDefaultTest, WithoutAPolicyFileNobodySpendsTheDefaultToken) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.allow_anonymous_default_token = false;
  });
  v1::Response response;
  EXPECT_EQ(h.Execute(Get("/projects"), &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status status = CallAs(h, Bearer("ci-bot"), Get("/projects"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(InfoMetadata(status, "rule"), "callers");
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(SecureDefaultTest, AllowAnonymousDefaultTokenRestoresTheOldBehaviour) {
  GatewayHarness h;  // the harness sets allow_anonymous_default_token
  v1::Response response;
  ASSERT_TRUE(h.Execute(Get("/projects"), &response).ok());
  ASSERT_EQ(h.fake.request_count(), 1u);
  EXPECT_EQ(h.fake.requests()[0].Header("PRIVATE-TOKEN"), kDefaultToken);
}

TEST(SecureDefaultTest, AuthenticatedCallerWithoutARuleIsNotAllowed) {
  PolicyDir dir;
  GatewayHarness h(SecureConfig(dir, kPolicy));
  grpc::Status status = CallAs(h, Bearer("stranger"), Get("/projects"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status, HasReason("CALLER_NOT_ALLOWED"));
  EXPECT_EQ(InfoMetadata(status, "caller"), "stranger");
  EXPECT_EQ(InfoMetadata(status, "rule"), "callers");
  EXPECT_THAT(status.error_message(), HasSubstr("\"stranger\""));
  EXPECT_EQ(h.fake.request_count(), 0u);
  // The caller the policy names goes through.
  ASSERT_TRUE(CallAs(h, Bearer("ci-bot"), Get("/projects")).ok());
  EXPECT_EQ(h.fake.request_count(), 1u);
}

TEST(SecureDefaultTest, UnknownCredentialNameIsInvalidArgumentNotEchoed) {
  PolicyDir dir;
  GatewayHarness h(SecureConfig(dir, kPolicy));
  v1::Request request = Get("/projects");
  request.set_credential_name("glpat-pasted-by-mistake");
  grpc::Status status = CallAs(h, Bearer("ci-bot"), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(RpcStatus(status)), "credential_name");
  EXPECT_THAT(status.error_message(), Not(HasSubstr("pasted")));
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(SecureDefaultTest, InBatchExecuteTheRefusedItemFailsNotTheStream) {
  PolicyDir dir;
  GatewayHarness h(SecureConfig(dir, kPolicy));
  v1::Request refused = Get("/projects");
  refused.set_id("default-token");
  v1::Request own = Get("/user");
  own.set_id("own-token");
  own.mutable_credentials()->set_private_token("callers-own-token");

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = h.stub->BatchExecute(&context);
  ASSERT_TRUE(stream->Write(refused));
  ASSERT_TRUE(stream->Write(own));
  stream->WritesDone();
  std::vector<v1::Response> responses;
  v1::Response response;
  while (stream->Read(&response)) responses.push_back(response);
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(responses.size(), 2u);
  for (const v1::Response& r : responses) {
    if (r.id() == "default-token") {
      EXPECT_EQ(r.error().code(), grpc::StatusCode::UNAUTHENTICATED);
      EXPECT_THAT(r.error(), HasReason("CALLER_UNAUTHENTICATED"));
    } else {
      EXPECT_EQ(r.id(), "own-token");
      EXPECT_EQ(r.error().code(), 0);
      EXPECT_EQ(r.status_code(), 200);
    }
  }
  ASSERT_EQ(h.fake.request_count(), 1u);
  EXPECT_EQ(h.fake.requests()[0].Header("PRIVATE-TOKEN"), "callers-own-token");
}

TEST(SecureDefaultTest, AnonymousPaginateIsRefusedBeforeTheFirstPage) {
  PolicyDir dir;
  GatewayHarness h(SecureConfig(dir, kPolicy));
  v1::PaginateRequest request;
  *request.mutable_request() = Get("/projects");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto reader = h.stub->Paginate(&context, request);
  v1::Response page;
  int pages = 0;
  while (reader->Read(&page)) ++pages;
  grpc::Status status = reader->Finish();
  EXPECT_EQ(pages, 0);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status, HasReason("CALLER_UNAUTHENTICATED"));
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(SecureDefaultTest, ABadPolicyFileFailsStartNamingIt) {
  PolicyDir dir;
  dir.WritePolicy(R"({"callers": [{"name": "x", "credentials": ["admin"]}]})");
  server::GatewayConfig config;
  config.listen_address = "127.0.0.1:0";
  config.metrics_address = "";
  config.policy_file = dir.policy_path();
  auto started = server::GatewayServer::Start(std::move(config));
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.status().message(), HasSubstr("--policy_file"));
  EXPECT_THAT(started.status().message(),
              HasSubstr("holds no credential \"admin\""));
}

}  // namespace
}  // namespace gitlab_gateway::testing
