// CredentialLimiters' slow-start hand-off with the real Scheduler: waiters
// are woken when the probe ends, or by the probe's time bound.
#include "service/limits/credential_limiters.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::limits {
namespace {

LimiterOptions SlowStart(absl::Duration wait) {
  LimiterOptions options;
  options.per_minute = 6000;
  options.burst = 10;
  options.slow_start_wait = wait;
  return options;
}

TEST(CredentialLimitersTest, EndingTheProbeWakesTheWaiters) {
  Scheduler scheduler;
  CredentialLimiters limiters(SlowStart(absl::Minutes(10)), &scheduler);
  absl::Time now = absl::Now();
  Admission probe = limiters.Reserve("k", "caller", "/projects", now,
                                     absl::InfiniteFuture());
  ASSERT_TRUE(probe.probe);
  Admission waiting = limiters.Reserve("k", "caller", "/projects", now,
                                       absl::InfiniteFuture());
  ASSERT_TRUE(waiting.awaits_probe);
  absl::Notification woken;
  ASSERT_TRUE(limiters.AwaitProbe("k", [&] { woken.Notify(); }));
  EXPECT_FALSE(woken.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  limiters.EndProbe("k");
  EXPECT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // Over: no more waiting, and later reservations are granted.
  EXPECT_FALSE(limiters.AwaitProbe("k", [] {}));
  EXPECT_EQ(limiters
                .Reserve("k", "caller", "/projects", absl::Now(),
                         absl::InfiniteFuture())
                .kind,
            Admission::Kind::kSend);
}

TEST(CredentialLimitersTest, AProbeWithoutAnswerReleasesAfterItsBound) {
  Scheduler scheduler;
  CredentialLimiters limiters(SlowStart(absl::Milliseconds(100)), &scheduler);
  absl::Time start = absl::Now();
  ASSERT_TRUE(limiters
                  .Reserve("k", "caller", "/projects", start,
                           absl::InfiniteFuture())
                  .probe);
  absl::Notification woken;
  ASSERT_TRUE(limiters.AwaitProbe("k", [&] { woken.Notify(); }));
  EXPECT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
}

TEST(CredentialLimitersTest, RoutePauseIsNotACredentialPause) {
  Scheduler scheduler;
  std::atomic<int> paused{0};
  CredentialLimiters limiters(
      SlowStart(absl::ZeroDuration()), &scheduler,
      [&](const std::string&, int delta) { paused += delta; });
  absl::Time now = absl::Now();
  limiters.Pause("k", "caller", PauseScope::kRoute, "/search",
                 now + absl::Seconds(30), now);
  EXPECT_EQ(paused.load(), 0);
  EXPECT_EQ(limiters.Reserve("k", "caller", "/user", now, now).kind,
            Admission::Kind::kSend);
  limiters.Pause("k", "caller", PauseScope::kCredential, "/search",
                 now + absl::Seconds(30), now);
  EXPECT_EQ(paused.load(), 1);
  EXPECT_EQ(limiters.Reserve("k", "caller", "/user", now, now).kind,
            Admission::Kind::kRefused);
}

}  // namespace
}  // namespace gitlab_gateway::limits
