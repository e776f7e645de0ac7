// Execute under time and load limits: stalled upstreams and deadlines,
// cancelled RPCs, and the engine queue overflowing.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

TEST(ExecuteLimitsTest, RequestTimeoutEndsAStalledCallAndClosesIt) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Do(Reply::Action::kStall));
  v1::Request request = Get("/projects");
  request.mutable_timeout()->set_nanos(300'000'000);
  v1::Response response;
  absl::Time start = absl::Now();
  grpc::Status status = h.Execute(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(status, HasReason("UPSTREAM_TIMEOUT"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(h.fake.WaitForClosedByClient(1, absl::Seconds(5)));
}

TEST(ExecuteLimitsTest, RpcDeadlineBoundsTheUpstreamCall) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Do(Reply::Action::kStall));
  v1::Response response;
  grpc::Status status =
      h.Execute(Get("/projects"), &response, absl::Milliseconds(300));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The gateway drops the upstream transfer too, not only the RPC.
  EXPECT_TRUE(h.fake.WaitForClosedByClient(1, absl::Seconds(5)));
}

TEST(ExecuteLimitsTest, SlowDripWithinTheTimeoutSucceeds) {
  GatewayHarness h;
  Reply drip = Reply::Json(200, R"({"slow":true})");
  drip.action = Reply::Action::kDrip;
  drip.drip_interval = absl::Milliseconds(5);
  h.fake.Enqueue(drip);
  v1::Response response;
  ASSERT_TRUE(h.Execute(Get("/projects"), &response).ok());
  EXPECT_EQ(response.text(), R"({"slow":true})");
}

TEST(ExecuteLimitsTest, CancelledRpcRemovesTheUpstreamTransfer) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Do(Reply::Action::kStall));
  grpc::ClientContext context;
  v1::Response response;
  absl::Notification done;
  grpc::Status status;
  v1::Request request = Get("/projects");
  h.stub->async()->Execute(&context, &request, &response, [&](grpc::Status s) {
                             status = s;
                             done.Notify();
                           });
  ASSERT_TRUE(h.fake.WaitForRequests(1, absl::Seconds(5)));
  context.TryCancel();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.fake.WaitForClosedByClient(1, absl::Seconds(5)));
  // Nothing stays in flight in the engine.
  h.WaitForNoTransfersInFlight(absl::Seconds(1));
  EXPECT_EQ(h.server->engine().load().in_flight, 0u);
}

// A short timeout is no reason to refuse a call whose slot is free now (the
// limiter's wait bound leaves 50 ms for the exchange; a free slot needs none).
TEST(ExecuteLimitsTest, ShortTimeoutIsSentWhenASlotIsFree) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.limiter.per_minute = 600;  // on, with tokens to spare
  });
  h.fake.Enqueue(Reply::Json(200, R"({"fast":true})"));
  v1::Request request = Get("/projects");
  request.mutable_timeout()->set_nanos(30'000'000);  // 30 ms
  v1::Response response;
  grpc::Status status = h.Execute(request, &response);
  // The limiter did not refuse it; on a slow machine the exchange itself may
  // still outlast 30 ms.
  EXPECT_THAT(status.error_code(),
              ::testing::AnyOf(grpc::StatusCode::OK,
                               grpc::StatusCode::DEADLINE_EXCEEDED))
      << status.error_message();
  if (status.ok()) {
    EXPECT_EQ(response.text(), R"({"fast":true})");
    EXPECT_EQ(h.fake.request_count(), 1u);
  } else {
    EXPECT_NE(OnlyDetail<google::rpc::ErrorInfo>(status).reason(),
              "GATEWAY_RATE_LIMITED");
  }
}

// Cancelling a call whose first attempt failed and whose retry is in flight
// removes the retry's transfer (the one Cancel must find).
TEST(ExecuteLimitsTest, CancelReachesTheRetriedAttempt) {
  constexpr int kCalls = 20;
  GatewayHarness h([](server::GatewayConfig& config) {
    // Attempts enough for any call to outlast every reset below.
    config.upstream.retry.max_attempts = kCalls + 1;
    config.upstream.retry.base = absl::Microseconds(1);
    config.upstream.retry.cap = absl::Microseconds(1);
    config.upstream.retry_budget_min = 100;  // every call may retry at once
  });
  // The first kCalls requests (whichever calls and attempts they are) are
  // reset, every later one stalls: each call ends up with one stalled
  // attempt, and the fake sees exactly 2 * kCalls requests.
  auto served = std::make_shared<std::atomic<int>>(0);
  h.fake.SetHandler([served](const RecordedRequest&) {
    return Reply::Do(served->fetch_add(1) < kCalls ? Reply::Action::kReset
                                                   : Reply::Action::kStall);
  });
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(kCalls);
  std::vector<v1::Response> responses(kCalls);
  std::vector<grpc::Status> statuses(kCalls);
  v1::Request request = Get("/projects");
  absl::BlockingCounter done(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    contexts[i] = std::make_unique<grpc::ClientContext>();
    contexts[i]->set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    h.stub->async()->Execute(contexts[i].get(), &request, &responses[i],
                             [&, i](grpc::Status s) {
                               statuses[i] = s;
                               done.DecrementCount();
                             });
  }
  // Not ASSERT: the calls reference this frame until done.Wait() below.
  EXPECT_TRUE(h.fake.WaitForRequests(2 * kCalls, absl::Seconds(10)));
  for (auto& context : contexts) context->TryCancel();
  done.Wait();
  for (const grpc::Status& status : statuses) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  }
  // Every stalled retry is closed by the gateway, none left to its timeout.
  EXPECT_TRUE(h.fake.WaitForClosedByClient(kCalls, absl::Seconds(10)));
  h.WaitForNoTransfersInFlight(absl::Seconds(2));
  EXPECT_EQ(h.server->engine().load().in_flight, 0u);
}

TEST(ExecuteLimitsTest, FullQueueAnswersResourceExhaustedAtOnce) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.engine.max_in_flight = 1;
    config.engine.max_queue = 2;
  });
  h.fake.SetHandler(
      [](const RecordedRequest&) { return Reply::Do(Reply::Action::kStall); });
  // Occupy the one slot and the two queue places.
  constexpr int kHeld = 3;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::Request> requests(kHeld, Get("/projects"));
  std::vector<v1::Response> responses(kHeld);
  absl::BlockingCounter finished(kHeld);
  for (int i = 0; i < kHeld; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    h.stub->async()->Execute(contexts.back().get(), &requests[i],
                             &responses[i],
                             [&](grpc::Status) { finished.DecrementCount(); });
  }
  ASSERT_TRUE(h.fake.WaitForRequests(1, absl::Seconds(5)));
  for (int i = 0; i < 200 && h.server->engine().load().queued < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(h.server->engine().load().queued, 2u)
      << "in flight " << h.server->engine().load().in_flight << " seen "
      << h.fake.request_count();

  v1::Response response;
  absl::Time start = absl::Now();
  grpc::Status status = h.Execute(Get("/projects"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status, HasReason("GATEWAY_OVERLOADED"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  // Only the one in-flight request reached GitLab.
  EXPECT_EQ(h.fake.request_count(), 1u);
  for (auto& context : contexts) context->TryCancel();
  finished.Wait();
}

TEST(ExecuteLimitsTest, InFlightIsCappedGlobally) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.engine.max_in_flight = 4;
  });
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, "{}").WithDelay(absl::Milliseconds(20));
  });
  constexpr int kCalls = 40;
  std::vector<grpc::ClientContext> contexts(kCalls);
  std::vector<v1::Request> requests(kCalls, Get("/projects"));
  std::vector<v1::Response> responses(kCalls);
  std::vector<grpc::Status> statuses(kCalls);
  absl::BlockingCounter finished(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    h.stub->async()->Execute(&contexts[i], &requests[i], &responses[i],
                             [&, i](grpc::Status s) {
                               statuses[i] = s;
                               finished.DecrementCount();
                             });
  }
  finished.Wait();
  for (const grpc::Status& s : statuses) EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(h.fake.request_count(), static_cast<size_t>(kCalls));
  EXPECT_LE(h.fake.max_in_progress(), 4);
  EXPECT_GE(h.fake.max_in_progress(), 2);
}

}  // namespace
}  // namespace gitlab_gateway::testing
