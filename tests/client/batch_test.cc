// Client::Batch against a real gateway in front of the demo GitLab: every
// request answered once, errors decodable, responses delivered as they
// arrive (not after the input ends), and generator input.
#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gitlab_gateway/client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/demo_gitlab.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::client {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::gitlab_gateway::testing::GatewayHarness;

v1::Request Get(std::string path, std::string id) {
  v1::Request request;
  request.set_path(std::move(path));
  request.set_id(std::move(id));
  return request;
}

class BatchTest : public ::testing::Test {
 protected:
  BatchTest() : client_(harness_.channel) {
    testing::ScriptDemoGitLab(harness_.fake);
  }

  GatewayHarness harness_;
  Client client_;
};

TEST_F(BatchTest, VectorInEachRequestAnsweredOnceWithDecodableErrors) {
  std::vector<v1::Request> requests;
  for (int i = 0; i < 50; ++i) {
    requests.push_back(Get(i % 5 == 0 ? "/projects/7" : "/projects/42",
                           absl::StrCat("item-", i)));
  }
  requests.push_back(Get("relative", "refused"));
  std::map<std::string, v1::Response> by_id;
  int calls = 0;
  absl::Status status = client_.Batch(requests, [&](v1::Response response) {
    ++calls;
    by_id[response.id()] = std::move(response);
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(calls, 51);
  ASSERT_EQ(by_id.size(), 51u);
  for (int i = 0; i < 50; ++i) {
    const v1::Response& r = by_id[absl::StrCat("item-", i)];
    if (i % 5 == 0) {
      EXPECT_EQ(r.error().code(),
                static_cast<int>(grpc::StatusCode::NOT_FOUND));
      DecodedError error = DecodeError(r.error());
      EXPECT_EQ(error.reason, "GITLAB_NOT_FOUND") << i;
      ASSERT_TRUE(error.gitlab.has_value());
      EXPECT_EQ(error.gitlab->status_code(), 404);
    } else {
      EXPECT_EQ(r.error().code(), 0) << i;
      EXPECT_EQ(r.status_code(), 200) << i;
    }
  }
  DecodedError refused = DecodeError(by_id["refused"].error());
  EXPECT_EQ(refused.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.domain, "gitlab-gateway");
  EXPECT_EQ(harness_.fake.request_count(), 50u);
}

TEST_F(BatchTest, EmptyInputEndsCleanly) {
  int calls = 0;
  absl::Status status =
      client_.Batch(std::vector<v1::Request>{}, [&](v1::Response) { ++calls; });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(calls, 0);
}

TEST_F(BatchTest, ResponsesArriveInCompletionOrder) {
  // Warm the gateway's upstream connection pool first: on a cold pool the
  // second call may wait for the first connection (the engine's business).
  ASSERT_TRUE(client_.Execute(Get("/projects/42", "warm")).ok());
  std::vector<std::string> order;
  absl::Status status = client_.Batch(
      {Get("/slow", "slow"), Get("/projects/42", "fast")},
      [&](v1::Response response) { order.push_back(response.id()); });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(order, ::testing::ElementsAre("fast", "slow"));
}

// The generator holds back the second request until the first response has
// been delivered: this only finishes if Batch hands responses over while the
// input is still open.
TEST_F(BatchTest, GeneratorInputAndResponsesWhileInputIsOpen) {
  absl::Notification first_delivered;
  std::atomic<int> produced{0};
  bool waited_ok = true;
  Client::RequestGenerator next = [&]() -> std::optional<v1::Request> {
    int n = produced++;
    if (n == 1) {
      waited_ok =
          first_delivered.WaitForNotificationWithTimeout(absl::Seconds(10));
    }
    if (n == 3) return std::nullopt;
    return Get("/projects/42", absl::StrCat("gen-", n));
  };
  std::vector<std::string> ids;
  absl::Status status = client_.Batch(next, [&](v1::Response response) {
    ids.push_back(response.id());
    if (!first_delivered.HasBeenNotified()) first_delivered.Notify();
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(waited_ok) << "first response was not delivered before the "
                            "input ended";
  EXPECT_EQ(ids.front(), "gen-0");
  EXPECT_THAT(ids, ::testing::UnorderedElementsAre("gen-0", "gen-1", "gen-2"));
}

TEST_F(BatchTest, StreamDeadlineEndsTheBatchWithItsStatus) {
  CallOptions call;
  call.timeout = absl::Milliseconds(300);
  int calls = 0;
  absl::Time start = absl::Now();
  absl::Status status = client_.Batch(
      {Get("/projects/42", "a"), Get("/stall", "stalled")},
      [&](v1::Response) { ++calls; }, call);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_LE(calls, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(BatchUnreachableTest, FailsWithUnavailable) {
  ClientOptions options;
  options.default_timeout = absl::Seconds(5);
  Client client = Client::Insecure("127.0.0.1:1", options);
  absl::Status status =
      client.Batch({Get("/projects/42", "a")}, [](v1::Response) {});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace gitlab_gateway::client
