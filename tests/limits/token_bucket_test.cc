#include "service/limits/token_bucket.h"

#include "gtest/gtest.h"

namespace gitlab_gateway::limits {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);
const absl::Time kNever = absl::InfiniteFuture();

TEST(TokenBucketTest, BurstThenSpacedAtRate) {
  TokenBucket b(/*per_second=*/50, /*burst=*/10, kT0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.Reserve(kT0, kNever), kT0) << i;
  // Reservations go into the future, 20 ms apart, without waking anyone.
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(b.Reserve(kT0, kNever), kT0 + absl::Milliseconds(20 * i)) << i;
  }
}

TEST(TokenBucketTest, RefillsOverTimeUpToTheBurst) {
  TokenBucket b(50, 10, kT0);
  for (int i = 0; i < 10; ++i) b.Reserve(kT0, kNever);
  absl::Time later = kT0 + absl::Seconds(10);  // far more than a burst's worth
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.Reserve(later, kNever), later);
  EXPECT_GT(*b.Reserve(later, kNever), later);
}

TEST(TokenBucketTest, ReservationPastTheDeadlineTakesNothing) {
  TokenBucket b(10, 1, kT0);
  EXPECT_EQ(b.Reserve(kT0, kNever), kT0);
  absl::Time ready;
  EXPECT_EQ(b.Reserve(kT0, kT0 + absl::Milliseconds(50), &ready), std::nullopt);
  EXPECT_EQ(ready, kT0 + absl::Milliseconds(100));
  // Nothing was consumed: the next slot is still 100 ms out.
  EXPECT_EQ(b.Reserve(kT0, kNever), kT0 + absl::Milliseconds(100));
}

TEST(TokenBucketTest, PauseHoldsEveryoneAndRestartsWithoutBurst) {
  TokenBucket b(50, 10, kT0);
  uint64_t epoch = b.epoch();
  b.PauseUntil(kT0 + absl::Seconds(2), kT0);
  EXPECT_NE(b.epoch(), epoch);
  EXPECT_TRUE(b.paused(kT0 + absl::Seconds(1)));
  // First token right at the pause end, then spaced: no thundering herd.
  EXPECT_EQ(b.Reserve(kT0, kNever), kT0 + absl::Seconds(2) + absl::Milliseconds(20));
  EXPECT_EQ(b.Reserve(kT0, kNever), kT0 + absl::Seconds(2) + absl::Milliseconds(40));
  // A shorter pause never shortens the current one.
  b.PauseUntil(kT0 + absl::Seconds(1), kT0);
  EXPECT_EQ(b.paused_until(), kT0 + absl::Seconds(2));
}

TEST(TokenBucketTest, UnlimitedRateStillHonoursPauses) {
  TokenBucket b(0, 1, kT0);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(b.Reserve(kT0, kNever), kT0);
  b.PauseUntil(kT0 + absl::Seconds(3), kT0);
  EXPECT_EQ(b.Reserve(kT0, kNever), kT0 + absl::Seconds(3));
  EXPECT_EQ(b.Reserve(kT0, kT0 + absl::Seconds(1)), std::nullopt);
}

TEST(TokenBucketTest, AdvertisedLimitCapsTheConfiguredRate) {
  TokenBucket b(100, 1, kT0);
  b.Observe(/*limit_per_minute=*/600, std::nullopt, std::nullopt, kT0);
  EXPECT_DOUBLE_EQ(b.rate(kT0), 10);
  // A higher advertised limit never raises the operator's setting.
  b.Observe(60000, std::nullopt, std::nullopt, kT0);
  EXPECT_DOUBLE_EQ(b.rate(kT0), 100);
}

TEST(TokenBucketTest, RemainingQuotaIsSpreadUntilTheReset) {
  TokenBucket b(100, 10, kT0);
  b.Observe(6000, /*remaining=*/30, kT0 + absl::Seconds(10), kT0);
  // 10 held as burst, the other 20 refill over the 10 s: 2/s.
  EXPECT_DOUBLE_EQ(b.rate(kT0), 2);
  EXPECT_DOUBLE_EQ(b.rate(kT0 + absl::Seconds(11)), 100);  // after the reset
  for (int i = 0; i < 10; ++i) ASSERT_EQ(b.Reserve(kT0, kNever), kT0) << i;
  EXPECT_EQ(b.Reserve(kT0, kNever), kT0 + absl::Milliseconds(500));
}

// The remaining quota is what may be sent until the reset, burst and
// refill together: never more (the old spread added the two).
TEST(TokenBucketTest, NeverMoreThanTheRemainingQuotaBeforeTheReset) {
  TokenBucket b(100, 50, kT0);
  const absl::Time reset = kT0 + absl::Seconds(10);
  b.Observe(6000, /*remaining=*/20, reset, kT0);
  int before_reset = 0;
  for (int i = 0; i < 100; ++i) {
    if (*b.Reserve(kT0, kNever) < reset) ++before_reset;
  }
  EXPECT_EQ(before_reset, 20);
  // After the reset the configured pace resumes.
  TokenBucket c(100, 50, kT0);
  c.Observe(6000, 20, reset, kT0);
  for (int i = 0; i < 20; ++i) c.Reserve(kT0, kNever);
  EXPECT_EQ(c.Reserve(kT0, kNever), reset + absl::Milliseconds(10));
}

TEST(TokenBucketTest, AdvertisedLimitCapsTheBurst) {
  TokenBucket b(100, 100, kT0);
  b.Observe(/*limit_per_minute=*/80, std::nullopt, std::nullopt, kT0);
  for (int i = 0; i < 80; ++i) ASSERT_EQ(b.Reserve(kT0, kNever), kT0) << i;
  EXPECT_GT(*b.Reserve(kT0, kNever), kT0);
}

TEST(TokenBucketTest, ExhaustedQuotaPausesUntilTheReset) {
  TokenBucket b(100, 50, kT0);
  b.Observe(2000, /*remaining=*/0, kT0 + absl::Seconds(30), kT0);
  EXPECT_EQ(b.paused_until(), kT0 + absl::Seconds(30));
  // A reset in the past changes nothing.
  TokenBucket c(100, 50, kT0);
  c.Observe(2000, 0, kT0 - absl::Seconds(1), kT0);
  EXPECT_FALSE(c.paused(kT0));
}

TEST(TokenBucketTest, FarAdvertisedResetIsCappedAtAnHour) {
  TokenBucket b(100, 50, kT0);
  // A bogus RateLimit-Reset some three years ahead.
  b.Observe(2000, /*remaining=*/0, kT0 + absl::Seconds(99999999), kT0);
  EXPECT_EQ(b.paused_until(), kT0 + kMaxAdvertisedReset);
}

}  // namespace
}  // namespace gitlab_gateway::limits
