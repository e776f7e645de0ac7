// kGcraScript against a real redis-server (scripts/deps/redis.txt), through
// RedisClient: exact GCRA spacing, several limits, pauses, advertisements,
// expiry, and EVALSHA's fallback to EVAL after SCRIPT FLUSH.

#include "service/limits/gcra_script.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/limits/redis_client.h"
#include "tests/support/redis_server.h"

namespace gitlab_gateway::limits {
namespace {

using ::gitlab_gateway::testing::RedisServer;

struct Answer {
  int64_t a = -1, b = -1, c = -1;
};

class GcraScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    RedisClient::Options options;
    options.address.host = "127.0.0.1";
    options.address.port = redis_.port();
    options.timeout = absl::Seconds(5);  // correctness here, not speed
    options.scripts = {kGcraScript};
    client_ = std::make_unique<RedisClient>(std::move(options));
  }

  absl::StatusOr<RedisValue> Run(std::vector<std::string> args,
                                 const std::string& key = "k") {
    absl::Notification done;
    absl::StatusOr<RedisValue> out;
    client_->Eval(0, {key}, std::move(args), [&](absl::StatusOr<RedisValue> v) {
      out = std::move(v);
      done.Notify();
    });
    done.WaitForNotification();
    return out;
  }

  // op x y z with the limits (interval_us, burst)...
  Answer Call(const std::string& op, int64_t x, int64_t y, int64_t z,
              std::vector<std::pair<int64_t, int>> limits,
              const std::string& key = "k") {
    std::vector<std::string> args = {op, absl::StrCat(x), absl::StrCat(y),
                                     absl::StrCat(z),
                                     absl::StrCat(limits.size())};
    for (auto [interval, burst] : limits) {
      args.push_back(absl::StrCat(interval));
      args.push_back(absl::StrCat(burst));
    }
    absl::StatusOr<RedisValue> v = Run(std::move(args), key);
    Answer answer;
    EXPECT_TRUE(v.ok()) << v.status();
    if (!v.ok() || v->elements.size() != 3) return answer;
    answer.a = v->elements[0].integer;
    answer.b = v->elements[1].integer;
    answer.c = v->elements[2].integer;
    return answer;
  }

  Answer Admit(int64_t max_wait_us, std::vector<std::pair<int64_t, int>> limits,
               const std::string& key = "k") {
    return Call("admit", max_wait_us, 0, 0, std::move(limits), key);
  }

  RedisServer redis_;
  std::unique_ptr<RedisClient> client_;
};

constexpr int64_t kMinute = 60'000'000;

TEST_F(GcraScriptTest, BurstThenExactSpacingWithReservations) {
  // 10 per second, burst 5: five at once, then one slot every 100 ms,
  // each reserved (a waiting call is not asked again).
  std::vector<std::pair<int64_t, int>> limit = {{100'000, 5}};
  for (int i = 0; i < 5; ++i) {
    Answer a = Admit(kMinute, limit);
    EXPECT_EQ(a.a, 1);
    EXPECT_EQ(a.b, 0) << "call " << i;
  }
  // Each reservation moves the theoretical arrival time by exactly one
  // interval (read from Redis: the test's own pace does not matter).
  double previous_tat = 0;
  Answer last;
  for (int i = 1; i <= 20; ++i) {
    last = Admit(kMinute, limit);
    EXPECT_EQ(last.a, 1);
    double tat = 0;
    ASSERT_TRUE(absl::SimpleAtod(redis_.Query("HGET k t1"), &tat));
    if (i > 1) EXPECT_NEAR(tat - previous_tat, 100'000, 1) << "slot " << i;
    previous_tat = tat;
  }
  // The 20th after the burst: 2 s after it, less the time the test took.
  EXPECT_GT(last.b, 1'000'000);
  EXPECT_LE(last.b, 2'000'000);
}

TEST_F(GcraScriptTest, RefusedSlotIsNotTaken) {
  std::vector<std::pair<int64_t, int>> limit = {{1'000'000, 1}};
  EXPECT_EQ(Admit(0, limit).a, 1);
  Answer refused = Admit(100'000, limit);  // next slot ~1 s away
  EXPECT_EQ(refused.a, 0);
  EXPECT_GT(refused.b, 500'000);
  Answer again = Admit(100'000, limit);
  EXPECT_EQ(again.a, 0);
  // Had the refusal reserved, the next slot would be a second later.
  EXPECT_LT(again.b, refused.b + 100'000) << "a refusal must not reserve";
}

TEST_F(GcraScriptTest, EveryLimitOfTheListHolds) {
  // 100/s burst 10 beside 1/s burst 2 (an "hourly" limit, scaled down):
  // the slower one decides once its burst is spent.
  std::vector<std::pair<int64_t, int>> limits = {{10'000, 10}, {1'000'000, 2}};
  EXPECT_LE(Admit(kMinute, limits).b, 0);
  EXPECT_LE(Admit(kMinute, limits).b, 0);
  Answer third = Admit(kMinute, limits);
  EXPECT_GT(third.b, 500'000);  // 10 ms if only the first limit held
  EXPECT_LT(third.b, 1'100'000);
}

TEST_F(GcraScriptTest, PauseHoldsEveryCallAndBumpsTheEpoch) {
  std::vector<std::pair<int64_t, int>> limit = {{100'000, 5}};
  Answer before = Admit(kMinute, limit);
  Answer paused = Call("pause", 2'000'000, 0, 0, limit);
  EXPECT_EQ(paused.c, before.c + 1);
  EXPECT_GT(paused.b, 1'800'000);
  Answer after = Admit(kMinute, limit);
  EXPECT_EQ(after.c, paused.c);
  // No burst after a pause: one interval after it ends.
  EXPECT_GT(after.b, 1'500'000);
  EXPECT_LT(after.b, 2'300'000);
  // A shorter pause does not shorten it, nor bump the epoch.
  EXPECT_EQ(Call("pause", 500'000, 0, 0, limit).c, paused.c);
}

TEST_F(GcraScriptTest, AdvertisedLimitAndRemainingSetThePace) {
  std::vector<std::pair<int64_t, int>> limit = {{10'000, 1}};  // 100/s
  // RateLimit-Limit: 600 per minute -> one per 100 ms.
  Call("observe", 600, -1, -1, limit);
  EXPECT_LE(Admit(kMinute, limit).b, 0);
  Answer second = Admit(kMinute, limit);
  EXPECT_GT(second.b, 30'000);  // 10 ms without the advertised limit
  EXPECT_LT(second.b, 110'000);
  // Remaining 0 until a reset 3 s away: a pause.
  Answer zero = Call("observe", -1, 0, 3'000'000, limit, "k2");
  EXPECT_EQ(zero.c, 1);
  EXPECT_GT(Admit(kMinute, limit, "k2").b, 2'000'000);
  // Remaining 4 over 2 s: one per 500 ms.
  Call("observe", -1, 4, 2'000'000, limit, "k3");
  Admit(kMinute, limit, "k3");
  Answer spread = Admit(kMinute, limit, "k3");
  EXPECT_GT(spread.b, 250'000);  // 10 ms without the spread
  EXPECT_LT(spread.b, 550'000);
}

TEST_F(GcraScriptTest, KeysExpireAfterTheirStateStopsMattering) {
  Admit(kMinute, {{100'000, 5}}, "gitlab-gateway:quota:abc");
  std::string ttl = redis_.Query("PTTL gitlab-gateway:quota:abc");
  int64_t ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::string_view(ttl).substr(1), &ms)) << ttl;
  EXPECT_GT(ms, 55'000);
  EXPECT_LE(ms, 61'000);
}

TEST_F(GcraScriptTest, RunsTheTextAfterScriptFlush) {
  EXPECT_EQ(Admit(kMinute, {{100'000, 5}}).a, 1);
  ASSERT_EQ(redis_.Query("SCRIPT FLUSH"), "+OK");
  Answer a = Admit(kMinute, {{100'000, 5}});
  EXPECT_EQ(a.a, 1);  // NOSCRIPT -> EVAL, invisible to the caller
}

TEST_F(GcraScriptTest, UnknownOpIsAnError) {
  absl::StatusOr<RedisValue> v = Run({"bogus", "0", "0", "0", "0"});
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace gitlab_gateway::limits
