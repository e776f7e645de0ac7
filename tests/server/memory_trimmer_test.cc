// MemoryTrimmer: when it hands memory back, alone and inside a gateway.
#include "service/server/memory_trimmer.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;
namespace {

constexpr absl::Duration kQuiet = absl::Milliseconds(20);
// Long enough for a timer that should have fired to have fired.
constexpr absl::Duration kSettle = absl::Milliseconds(200);

struct Counted {
  std::atomic<int> trims{0};
  absl::Notification first;
  std::function<void()> Fn() {
    return [this] {
      if (trims.fetch_add(1) == 0) first.Notify();
    };
  }
};

TEST(MemoryTrimmerTest, TrimsOnceAfterABurstFallsBackToZero) {
  Counted counted;
  MemoryTrimmer trimmer({/*burst=*/100, kQuiet}, counted.Fn());
  for (size_t load : {10, 60, 150, 80, 0}) trimmer.OnLoad(load);
  ASSERT_TRUE(counted.first.WaitForNotificationWithTimeout(absl::Seconds(10)));
  trimmer.OnLoad(0);  // a second zero without a new burst
  absl::SleepFor(kSettle);
  EXPECT_EQ(counted.trims.load(), 1);
  EXPECT_EQ(trimmer.trims(), 1u);
}

TEST(MemoryTrimmerTest, NoTrimBelowTheBurst) {
  Counted counted;
  MemoryTrimmer trimmer({/*burst=*/100, kQuiet}, counted.Fn());
  for (size_t load : {10, 99, 0}) trimmer.OnLoad(load);
  absl::SleepFor(kSettle);
  EXPECT_EQ(counted.trims.load(), 0);
}

TEST(MemoryTrimmerTest, LoadReturningBeforeTheQuietPeriodPostponesTheTrim) {
  Counted counted;
  MemoryTrimmer trimmer({/*burst=*/100, absl::Milliseconds(500)},
                        counted.Fn());
  trimmer.OnLoad(500);
  trimmer.OnLoad(0);
  trimmer.OnLoad(3);  // busy again before the timer fires
  absl::SleepFor(absl::Milliseconds(800));
  EXPECT_EQ(counted.trims.load(), 0);
  trimmer.OnLoad(0);  // the burst is remembered: this zero re-arms
  ASSERT_TRUE(counted.first.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(counted.trims.load(), 1);
}

TEST(MemoryTrimmerTest, BurstZeroTurnsItOff) {
  Counted counted;
  MemoryTrimmer trimmer({/*burst=*/0, kQuiet}, counted.Fn());
  for (size_t load : {100000, 0}) trimmer.OnLoad(load);
  absl::SleepFor(kSettle);
  EXPECT_EQ(counted.trims.load(), 0);
}

// The gateway feeds it the engine's load: calls held against a stalled
// upstream and then cancelled make exactly one trim.
TEST(MemoryTrimmerTest, GatewayTrimsAfterHeldCallsAreCancelled) {
  using ::gitlab_gateway::testing::GatewayHarness;
  using ::gitlab_gateway::testing::Reply;
  GatewayHarness h([](GatewayConfig& config) {
    config.trim = {/*burst=*/40, kQuiet};
  });
  h.fake.SetHandler([](const ::gitlab_gateway::testing::RecordedRequest&) {
    return Reply::Do(Reply::Action::kStall);
  });
  constexpr int kCalls = 50;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> callers;
  std::atomic<int> cancelled{0};
  for (int i = 0; i < kCalls; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  }
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&, i] {
      v1::Response response;
      grpc::Status status = h.stub->Execute(
          contexts[i].get(), ::gitlab_gateway::testing::Get("/projects/1"),
          &response);
      if (status.error_code() == grpc::StatusCode::CANCELLED) ++cancelled;
    });
  }
  // Every call has reached the fake, so the engine has reported all of them
  // in flight (it reports before curl sends); the engine's counters alone
  // could run ahead of its reports.
  EXPECT_TRUE(h.fake.WaitForRequests(kCalls, absl::Seconds(20)));
  EXPECT_EQ(h.server->trimmer().trims(), 0u) << "trimmed while busy";
  for (auto& context : contexts) context->TryCancel();
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(cancelled.load(), kCalls);
  absl::Time until = absl::Now() + absl::Seconds(10);
  while (h.server->trimmer().trims() == 0 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(h.server->trimmer().trims(), 1u)
      << "engine load: " << h.server->engine().load().in_flight
      << " in flight, " << h.server->engine().load().queued << " queued";
}

}  // namespace
}  // namespace gitlab_gateway::server
