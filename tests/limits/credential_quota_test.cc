// One credential's quota with a fake clock: route pauses, slow start, the
// hourly bucket and advertised quotas corrected for calls still in flight.
#include "service/limits/credential_quota.h"

#include <deque>

#include "gtest/gtest.h"

namespace gitlab_gateway::limits {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);
const absl::Time kNever = absl::InfiniteFuture();
using Kind = Admission::Kind;

LimiterOptions Options(double per_minute = 6000, double burst = 10) {
  LimiterOptions options;
  options.per_minute = per_minute;
  options.burst = burst;
  options.slow_start_wait = absl::ZeroDuration();
  return options;
}

TEST(CredentialQuotaTest, RoutePauseHoldsOnlyThatRoute) {
  CredentialQuota q(Options(), kT0);
  const absl::Time until = kT0 + absl::Seconds(30);
  q.PauseRoute("/search", until, kT0);
  EXPECT_FALSE(q.paused(kT0));  // the credential is not paused
  Admission user = q.Reserve("/user", kT0, kNever);
  EXPECT_EQ(user.kind, Kind::kSend);
  EXPECT_EQ(user.ready, kT0);
  Admission search = q.Reserve("/search", kT0, kNever);
  EXPECT_EQ(search.kind, Kind::kAdmitAgain);  // nothing taken: ask again
  EXPECT_EQ(search.ready, until);
  EXPECT_EQ(q.Reserve("/search", kT0, kT0 + absl::Seconds(5)).kind,
            Kind::kRefused);
  EXPECT_EQ(q.Reserve("/search", until, kNever).kind, Kind::kSend);
}

TEST(CredentialQuotaTest, RoutePauseChangesOnlyThatRoutesEpoch) {
  CredentialQuota q(Options(), kT0);
  QuotaEpoch user = q.Epoch("/user");
  QuotaEpoch search = q.Epoch("/search");
  q.PauseRoute("/search", kT0 + absl::Seconds(5), kT0);
  EXPECT_EQ(q.Epoch("/user"), user);
  EXPECT_NE(q.Epoch("/search"), search);
  q.PauseCredential(kT0 + absl::Seconds(5), kT0);
  EXPECT_NE(q.Epoch("/user"), user);
}

TEST(CredentialQuotaTest, RoutePausesAreBounded) {
  CredentialQuota q(Options(), kT0);
  for (int i = 0; i < 1000; ++i) {
    q.PauseRoute("/r" + std::to_string(i), kT0 + absl::Seconds(10 + i), kT0);
    ASSERT_LE(q.route_pauses(), kMaxRoutePauses);
  }
  // The latest pauses are kept; the ones ending first were dropped.
  EXPECT_EQ(q.Reserve("/r999", kT0, kNever).kind, Kind::kAdmitAgain);
  EXPECT_EQ(q.Reserve("/r0", kT0, kNever).kind, Kind::kSend);
}

TEST(CredentialQuotaTest, CredentialPauseHoldsEveryRoute) {
  CredentialQuota q(Options(), kT0);
  q.PauseCredential(kT0 + absl::Seconds(30), kT0);
  EXPECT_EQ(q.Reserve("/user", kT0, kT0 + absl::Seconds(5)).kind,
            Kind::kRefused);
  EXPECT_GE(q.Reserve("/user", kT0, kNever).ready, kT0 + absl::Seconds(30));
}

TEST(CredentialQuotaTest, SlowStartSendsOneCallFirst) {
  LimiterOptions options = Options();
  options.slow_start_wait = absl::Seconds(5);
  CredentialQuota q(options, kT0);
  Admission probe = q.Reserve("/projects", kT0, kNever);
  EXPECT_EQ(probe.kind, Kind::kSend);
  EXPECT_TRUE(probe.probe);
  EXPECT_TRUE(q.probing());
  Admission other = q.Reserve("/projects", kT0, kNever);
  EXPECT_EQ(other.kind, Kind::kAdmitAgain);
  EXPECT_TRUE(other.awaits_probe);
  EXPECT_EQ(other.ready, kT0 + absl::Seconds(5));  // the bound
  q.EndProbe();
  Admission after = q.Reserve("/projects", kT0, kNever);
  EXPECT_EQ(after.kind, Kind::kSend);
  EXPECT_FALSE(after.probe);  // once per credential
}

TEST(CredentialQuotaTest, AnOverdueProbeReleasesTheOthers) {
  LimiterOptions options = Options();
  options.slow_start_wait = absl::Seconds(5);
  CredentialQuota q(options, kT0);
  ASSERT_TRUE(q.Reserve("/projects", kT0, kNever).probe);
  Admission late = q.Reserve("/projects", kT0 + absl::Seconds(5), kNever);
  EXPECT_EQ(late.kind, Kind::kSend);
  EXPECT_FALSE(q.probing());
}

TEST(CredentialQuotaTest, NoSlowStartWithoutALimit) {
  LimiterOptions options = Options(/*per_minute=*/0);
  options.slow_start_wait = absl::Seconds(5);
  CredentialQuota q(options, kT0);
  EXPECT_FALSE(q.Reserve("/projects", kT0, kNever).probe);
  EXPECT_EQ(q.Reserve("/projects", kT0, kNever).kind, Kind::kSend);
}

// 80 per minute advertised on the probe's answer: the burst shrinks to the
// 79 left, and answers that come back while later calls are out do not
// hand out their slots again.
TEST(CredentialQuotaTest, AdvertisedRemainingCountsCallsStillInFlight) {
  LimiterOptions options = Options(/*per_minute=*/2000, /*burst=*/100);
  CredentialQuota q(options, kT0);
  const absl::Time reset = kT0 + absl::Seconds(60);
  Admission probe = q.Reserve("/projects", kT0, kNever);
  q.Observe(80, /*remaining=*/79, reset, probe.seq, kT0);
  std::deque<uint64_t> sent;
  for (int i = 0; i < 200; ++i) {
    Admission a = q.Reserve("/projects", kT0, kT0 + absl::Seconds(10));
    if (a.kind == Kind::kSend) sent.push_back(a.seq);
  }
  EXPECT_EQ(sent.size(), 79u);
  // GitLab answers them in order: each remaining counts only what it saw.
  int64_t remaining = 78;
  for (uint64_t seq : sent) {
    q.Observe(80, remaining--, reset, seq, kT0 + absl::Seconds(1));
  }
  EXPECT_TRUE(q.paused(kT0 + absl::Seconds(1)));
  EXPECT_EQ(q.Reserve("/projects", kT0 + absl::Seconds(1),
                      kT0 + absl::Seconds(10))
                .kind,
            Kind::kRefused);
}

// per_hour 3600 with a burst of 10: whatever the demand, no 3600 s window
// sees more than 3600 calls, and the first minute not much more than the
// burst plus a minute of the hourly pace.
TEST(CredentialQuotaTest, HourlyBucketHoldsSustainedWork) {
  LimiterOptions options = Options(/*per_minute=*/6000, /*burst=*/10);
  options.per_hour = 3600;
  CredentialQuota q(options, kT0);
  std::deque<absl::Time> sent;
  absl::Time now = kT0;
  int first_minute = 0;
  size_t max_hour = 0;
  for (int step = 0; step < 2 * 3600 * 10; ++step) {  // 2 h in 100 ms steps
    now = kT0 + absl::Milliseconds(100 * step);
    while (true) {
      Admission a = q.Reserve("/projects", now, now);  // no waiting
      if (a.kind != Kind::kSend) break;
      sent.push_back(now);
      if (now < kT0 + absl::Minutes(1)) ++first_minute;
    }
    while (!sent.empty() && now - sent.front() >= absl::Hours(1)) {
      sent.pop_front();
    }
    max_hour = std::max(max_hour, sent.size());
  }
  EXPECT_LE(max_hour, 3600u);
  EXPECT_GE(max_hour, 3500u);  // and it does let the hour's work through
  EXPECT_LE(first_minute, 10 + 60);
  // Without the hourly limit the per-minute bucket alone allows 100/s.
  CredentialQuota minute_only(Options(6000, 10), kT0);
  int n = 0;
  for (int step = 0; step < 600; ++step) {
    absl::Time t = kT0 + absl::Milliseconds(100 * step);
    while (minute_only.Reserve("/projects", t, t).kind == Kind::kSend) ++n;
  }
  EXPECT_GT(n, 5000);
}

}  // namespace
}  // namespace gitlab_gateway::limits
