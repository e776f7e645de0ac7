// Client::Execute and ExecuteAsync against a real gateway in front of the
// demo GitLab, and the deadline/metadata every call carries (seen by a fake
// Gateway service).
#include "gitlab_gateway/client/client.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/demo_gitlab.h"
#include "tests/client/fake_gateway_service.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::client {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::gitlab_gateway::testing::GatewayHarness;
using ::testing::HasSubstr;

v1::Request Get(std::string path) {
  v1::Request request;
  request.set_path(std::move(path));
  return request;
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() { testing::ScriptDemoGitLab(harness_.fake); }

  Client MakeClient(ClientOptions options = {}) {
    return Client(harness_.channel, std::move(options));
  }

  GatewayHarness harness_;
};

TEST_F(ClientTest, ExecuteReturnsGitLabsAnswer) {
  Client client = MakeClient();
  v1::Request request = Get("/projects/42");
  request.set_id("p42");
  absl::StatusOr<v1::Response> response = client.Execute(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->id(), "p42");
  EXPECT_EQ(response->status_code(), 200);
  EXPECT_THAT(response->text(), HasSubstr(R"("name":"demo")"));
  EXPECT_EQ(response->attempts(), 1);
  ASSERT_EQ(harness_.fake.request_count(), 1u);
  EXPECT_EQ(harness_.fake.requests()[0].path, "/api/v4/projects/42");
}

TEST_F(ClientTest, NotFoundDecodesFromTheReturnedStatus) {
  absl::StatusOr<v1::Response> response =
      MakeClient().Execute(Get("/projects/7"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  DecodedError error = DecodeError(response.status());
  EXPECT_TRUE(error.has_details);
  EXPECT_EQ(error.reason, "GITLAB_NOT_FOUND");
  EXPECT_EQ(error.domain, "127.0.0.1");
  EXPECT_EQ(error.http_status, 404);
  EXPECT_EQ(error.attempts, 1);
  ASSERT_TRUE(error.gitlab.has_value());
  EXPECT_EQ(error.gitlab->status_code(), 404);
  EXPECT_THAT(error.gitlab->message(), HasSubstr("Project Not Found"));
  ASSERT_TRUE(error.resource.has_value());
  EXPECT_EQ(error.resource->resource_type(), "projects");
}

TEST_F(ClientTest, BadRequestDecodesFieldViolations) {
  v1::Request request = Get("/projects");
  request.set_method("POST");
  request.set_text(R"({"description":"no name"})");
  absl::StatusOr<v1::Response> response = MakeClient().Execute(request);
  ASSERT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  DecodedError error = DecodeError(response.status());
  EXPECT_EQ(error.reason, "GITLAB_BAD_REQUEST");
  ASSERT_EQ(error.field_violations.size(), 1u);
  EXPECT_EQ(error.field_violations[0].field, "name");
  EXPECT_EQ(error.field_violations[0].description, "can't be blank");
}

TEST_F(ClientTest, RefusedInputIsTheGatewaysOwnError) {
  absl::StatusOr<v1::Response> response =
      MakeClient().Execute(Get("no-leading-slash"));
  ASSERT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  DecodedError error = DecodeError(response.status());
  EXPECT_EQ(error.domain, "gitlab-gateway");
  EXPECT_FALSE(error.gitlab.has_value());
  ASSERT_FALSE(error.field_violations.empty());
  EXPECT_EQ(error.field_violations[0].field, "path");
  EXPECT_EQ(harness_.fake.request_count(), 0u);
}

TEST_F(ClientTest, DefaultDeadlineFromOptionsEndsAStalledCall) {
  ClientOptions options;
  options.default_timeout = absl::Milliseconds(300);
  Client client = MakeClient(options);
  absl::Time start = absl::Now();
  absl::StatusOr<v1::Response> response = client.Execute(Get("/stall"));
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST_F(ClientTest, CallTimeoutOverridesTheDefault) {
  Client client = MakeClient();  // 30 s default
  CallOptions call;
  call.timeout = absl::Milliseconds(200);
  absl::Time start = absl::Now();
  absl::StatusOr<v1::Response> response = client.Execute(Get("/stall"), call);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(ClientTest, AsyncCallsRunConcurrentlyAndCallBackOnce) {
  constexpr int kCalls = 16;  // each waits 300 ms at the fake
  Client client = MakeClient();
  absl::Mutex mu;
  std::vector<std::string> ids;
  std::atomic<int> ok{0};
  absl::BlockingCounter done(kCalls);
  absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) {
    v1::Request request = Get("/slow");
    request.set_id(absl::StrCat("slow-", i));
    client.ExecuteAsync(request, [&](absl::StatusOr<v1::Response> response) {
      if (response.ok() && response->status_code() == 200) ++ok;
      {
        absl::MutexLock lock(&mu);
        ids.push_back(response.ok() ? response->id() : "error");
      }
      done.DecrementCount();  // last: the test may end right after it
    });
  }
  done.Wait();
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(ok.load(), kCalls);
  std::vector<std::string> want;
  for (int i = 0; i < kCalls; ++i) want.push_back(absl::StrCat("slow-", i));
  EXPECT_THAT(ids, ::testing::UnorderedElementsAreArray(want));
  // In series this would take 16 * 300 ms.
  EXPECT_LT(took, absl::Seconds(3)) << "async calls did not overlap";
}

TEST_F(ClientTest, AsyncErrorCarriesDetailsAndOutlivesTheClient) {
  absl::Notification done;
  absl::Status status;
  {
    Client client = MakeClient();
    client.ExecuteAsync(Get("/projects/7"),
                        [&](absl::StatusOr<v1::Response> response) {
                          status = response.status();
                          done.Notify();
                        });
  }  // the client is gone; the call is not
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DecodeError(status).reason, "GITLAB_NOT_FOUND");
}

TEST(ClientOptionsTest, EveryCallCarriesTheDeadlineAndMetadata) {
  testing::FakeGateway fake;
  ClientOptions options;
  options.default_timeout = absl::Seconds(7);
  options.metadata = {{"x-caller", "billing"}};
  Client client(fake.channel, options);

  ASSERT_TRUE(client.Execute(Get("/x")).ok());
  EXPECT_EQ(fake.service.last_caller(), "billing");
  EXPECT_GT(fake.service.last_deadline_left(), absl::Seconds(5));
  // grpc-timeout is rounded up on the wire, hence the slack.
  EXPECT_LE(fake.service.last_deadline_left(), absl::Milliseconds(7100));

  CallOptions call;
  call.timeout = absl::Seconds(2);
  ASSERT_TRUE(client.Execute(Get("/x"), call).ok());
  EXPECT_LE(fake.service.last_deadline_left(), absl::Milliseconds(2100));
  EXPECT_GT(fake.service.last_deadline_left(), absl::Seconds(1));
}

TEST(ClientInsecureTest, UnreachableTargetIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  ClientOptions options;
  options.default_timeout = absl::Seconds(5);
  Client client = Client::Insecure("127.0.0.1:1", options);
  absl::StatusOr<v1::Response> response = client.Execute(Get("/projects/42"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(DecodeError(response.status()).has_details);
}

}  // namespace
}  // namespace gitlab_gateway::client
