// Policy reload with a live gateway: a changed file applies to the next
// call without a restart; a bad new file keeps the policy in force.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/policy_harness.h"

namespace gitlab_gateway::testing {
namespace {

constexpr char kReadOnly[] = R"({"callers": [
  {"name": "ci-bot", "credentials": ["readonly"],
   "default_credential": "readonly", "methods": ["GET"]}]})";
constexpr char kReadWrite[] = R"({"callers": [
  {"name": "ci-bot", "credentials": ["readonly", "release-bot"],
   "default_credential": "release-bot", "methods": ["GET", "POST"]}]})";

v1::Request Post() {
  v1::Request request = Get("/projects/7/issues");
  request.set_method("POST");
  request.set_text(R"({"title":"t"})");
  return request;
}

TEST(PolicyReloadTest, AChangedFileAppliesToTheNextCall) {
  PolicyDir dir;
  GatewayHarness h(SecureConfig(dir, kReadOnly));
  auth::PolicyStore* store = h.server->policy();
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->generation(), 1u);

  grpc::Status status = CallAs(h, Bearer("ci-bot"), Post());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(InfoMetadata(status, "rule"), "methods");
  EXPECT_EQ(h.fake.request_count(), 0u);

  dir.WritePolicy(kReadWrite);
  ASSERT_TRUE(store->WaitForGeneration(2, absl::Seconds(10)));
  ASSERT_TRUE(CallAs(h, Bearer("ci-bot"), Post()).ok());
  ASSERT_EQ(h.fake.request_count(), 1u);
  // The new default credential applies too.
  EXPECT_EQ(h.fake.requests()[0].Header("Authorization"),
            absl::StrCat("Bearer ", kBotToken));

  // Gateway traffic keeps flowing over the same channel meanwhile.
  v1::Request own = Get("/user");
  own.mutable_credentials()->set_private_token("callers-own-token");
  v1::Response response;
  EXPECT_TRUE(h.Execute(own, &response).ok());

  // Back again: the write is refused once more.
  dir.WritePolicy(kReadOnly);
  ASSERT_TRUE(store->WaitForGeneration(3, absl::Seconds(10)));
  const size_t before = h.fake.request_count();
  EXPECT_EQ(CallAs(h, Bearer("ci-bot"), Post()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(h.fake.request_count(), before);
}

TEST(PolicyReloadTest, ABadNewFileKeepsThePolicyInForce) {
  PolicyDir dir;
  GatewayHarness h(SecureConfig(dir, kReadWrite));
  auth::PolicyStore* store = h.server->policy();
  ASSERT_NE(store, nullptr);

  // Valid JSON, but naming a credential the gateway does not hold.
  dir.WritePolicy(
      R"({"callers": [{"name": "ci-bot", "credentials": ["admin"]}]})");
  ASSERT_TRUE(store->WaitForFailedReloads(1, absl::Seconds(10)));
  EXPECT_EQ(store->generation(), 1u);
  ASSERT_TRUE(CallAs(h, Bearer("ci-bot"), Post()).ok());
  EXPECT_EQ(h.fake.request_count(), 1u);

  dir.WritePolicy("{\"callers\": [");
  ASSERT_TRUE(store->WaitForFailedReloads(2, absl::Seconds(10)));
  ASSERT_TRUE(CallAs(h, Bearer("ci-bot"), Post()).ok());
  EXPECT_EQ(h.fake.request_count(), 2u);

  // A good file after the bad ones is taken.
  dir.WritePolicy(kReadOnly);
  ASSERT_TRUE(store->WaitForGeneration(2, absl::Seconds(10)));
  EXPECT_EQ(CallAs(h, Bearer("ci-bot"), Post()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(h.fake.request_count(), 2u);
}

}  // namespace
}  // namespace gitlab_gateway::testing
