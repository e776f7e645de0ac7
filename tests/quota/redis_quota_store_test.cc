// RedisQuotaStore against a real redis-server: one quota for several
// stores (replicas), pauses seen by all, the local share while Redis is
// down or frozen, and sharing again once it answers.

#include "service/limits/redis_quota_store.h"

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/limits/local_quota_store.h"
#include "service/limits/scheduler.h"
#include "tests/support/redis_server.h"

namespace gitlab_gateway::limits {
namespace {

using ::gitlab_gateway::testing::RedisServer;

// Records the mode changes a store reports. Any thread.
class Modes {
 public:
  void Add(bool shared) {
    absl::MutexLock lock(&mu_);
    modes_.push_back(shared);
  }
  bool WaitFor(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&] { return modes_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  std::vector<bool> get() {
    absl::MutexLock lock(&mu_);
    return modes_;
  }

 private:
  absl::Mutex mu_;
  std::vector<bool> modes_ ABSL_GUARDED_BY(mu_);
};

class RedisQuotaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }

  // A replica's store: 10 per second, burst 2, shared; its local share is
  // 5 per second, burst 1 (two replicas).
  std::unique_ptr<RedisQuotaStore> NewStore(
      Modes* modes = nullptr,
      absl::Duration timeout = absl::Milliseconds(200)) {
    RedisQuotaStore::Options options;
    options.redis.address.host = "127.0.0.1";
    options.redis.address.port = redis_.port();
    options.redis.timeout = timeout;
    options.redis.reconnect_min = absl::Milliseconds(50);
    options.redis.reconnect_max = absl::Milliseconds(200);
    options.probe_min = absl::Milliseconds(50);
    options.probe_max = absl::Milliseconds(200);
    options.limits = {{10, 2}};
    LimiterOptions share;
    share.per_minute = 300;
    share.burst = 1;
    return std::make_unique<RedisQuotaStore>(
        std::move(options),
        std::make_unique<LocalQuotaStore>(share, &scheduler_), &scheduler_,
        [modes](bool shared) {
          if (modes != nullptr) modes->Add(shared);
        });
  }

  // Admits and waits for the answer. (A promise, not a Notification on the
  // stack: the answering thread may still be inside Notify() when the
  // next call's Notification takes the same address.)
  static QuotaStore::Admission Admit(QuotaStore& store,
                                     const std::string& key = "cred") {
    auto answer = std::make_shared<std::promise<QuotaStore::Admission>>();
    std::future<QuotaStore::Admission> future = answer->get_future();
    absl::Time now = absl::Now();
    store.Admit(key, "default", now, now + absl::Minutes(1),
                [answer](QuotaStore::Admission a) { answer->set_value(a); });
    return future.get();
  }

  // The per-minute limit's theoretical arrival time in Redis (µs).
  double Tat(const std::string& key = "cred") {
    double tat = -1;
    EXPECT_TRUE(absl::SimpleAtod(
        redis_.Query("HGET gitlab-gateway:quota:" + key + " t1"), &tat));
    return tat;
  }

  RedisServer redis_;
  Scheduler scheduler_;
};

TEST_F(RedisQuotaStoreTest, ReplicasShareOneQuota) {
  auto a = NewStore();
  auto b = NewStore();
  ASSERT_TRUE(Admit(*a).granted);
  double first = Tat();
  for (int i = 1; i < 10; ++i) {
    ASSERT_TRUE(Admit(i % 2 == 0 ? *a : *b).granted);
  }
  // Ten slots from one sequence, 100 ms apart, whichever store asked
  // (read from Redis, so the test's own pace does not matter).
  EXPECT_NEAR(Tat() - first, 9 * 100'000, 1);
  EXPECT_EQ(redis_.Query("EXISTS gitlab-gateway:quota:cred"), ":1");
}

TEST_F(RedisQuotaStoreTest, APauseOnOneReplicaHoldsTheOthers) {
  auto a = NewStore();
  auto b = NewStore();
  QuotaStore::Admission before = Admit(*b);
  uint64_t epoch = b->Epoch("cred");
  EXPECT_EQ(before.epoch, epoch);
  absl::Time now = absl::Now();
  a->Pause("cred", "default", now + absl::Seconds(3), now);
  // A's own epoch moves at once; B learns it from its next answer.
  EXPECT_NE(a->Epoch("cred"), epoch);
  // A's connection is FIFO: once A's admission is answered, Redis holds
  // the pause (B's connection might otherwise overtake it).
  EXPECT_GT(Admit(*a).ready - now, absl::Milliseconds(2800));
  QuotaStore::Admission after = Admit(*b);
  EXPECT_GT(after.ready - now, absl::Milliseconds(2800));
  EXPECT_NE(b->Epoch("cred"), epoch);
}

TEST_F(RedisQuotaStoreTest, AdvertisedRemainingZeroPausesEveryReplica) {
  auto a = NewStore();
  auto b = NewStore();
  absl::Time now = absl::Now();
  a->Observe("cred", "default", 600, 0, now + absl::Seconds(3), now);
  // A's connection is FIFO: once A's admission is answered, Redis holds
  // the observation (B's connection might otherwise overtake it).
  EXPECT_GT(Admit(*a).ready - now, absl::Milliseconds(2500));
  QuotaStore::Admission after = Admit(*b);
  EXPECT_GT(after.ready - now, absl::Milliseconds(2500));
}

TEST_F(RedisQuotaStoreTest, RedisKilledGivesTheLocalShareThenSharesAgain) {
  Modes modes;
  auto store = NewStore(&modes);
  ASSERT_TRUE(Admit(*store).granted);
  redis_.Kill();
  // Answered without Redis, from the local share (5 per second, burst 1).
  QuotaStore::Admission first = Admit(*store);
  QuotaStore::Admission second = Admit(*store);
  QuotaStore::Admission third = Admit(*store);
  EXPECT_TRUE(first.granted && second.granted && third.granted);
  // The local share spaces them at least 200 ms apart; shared (10 per
  // second) the three would fit in 200 ms.
  EXPECT_GE(third.ready - first.ready, absl::Milliseconds(390));
  ASSERT_TRUE(modes.WaitFor(2, absl::Seconds(1)));
  EXPECT_EQ(modes.get(), (std::vector<bool>{true, false}));
  EXPECT_FALSE(store->shared());

  ASSERT_TRUE(redis_.Start().ok());  // same port, empty
  ASSERT_TRUE(modes.WaitFor(3, absl::Seconds(10)));
  EXPECT_EQ(modes.get(), (std::vector<bool>{true, false, true}));
  EXPECT_TRUE(Admit(*store, "other").granted);
  EXPECT_EQ(redis_.Query("EXISTS gitlab-gateway:quota:other"), ":1");
}

TEST_F(RedisQuotaStoreTest,
       FrozenRedisFallsBackAfterTheTimeoutWithoutBlocking) {
  // A long timeout, so that "at once" and "after the timeout" stay apart
  // on a loaded machine.
  constexpr absl::Duration kTimeout = absl::Seconds(3);
  Modes modes;
  auto store = NewStore(&modes, kTimeout);
  ASSERT_TRUE(Admit(*store).granted);
  redis_.Freeze();
  absl::Notification done;
  absl::Time start = absl::Now();
  store->Admit("cred", "default", start, start + absl::Minutes(1),
               [&](QuotaStore::Admission a) {
                 EXPECT_TRUE(a.granted);
                 done.Notify();
               });
  // Admit itself returned at once; the answer comes after the timeout.
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(done.HasBeenNotified());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_GE(absl::Now() - start, kTimeout - absl::Milliseconds(10));
  EXPECT_FALSE(store->shared());
  // Now local at once, no timeout per call.
  absl::Time local = absl::Now();
  Admit(*store);
  EXPECT_LT(absl::Now() - local, absl::Seconds(1));
  redis_.Thaw();
  ASSERT_TRUE(modes.WaitFor(3, absl::Seconds(20)));
  EXPECT_TRUE(store->shared());
}

TEST_F(RedisQuotaStoreTest, ShutdownFinishesAdmissionsAwaitingRedis) {
  auto store = NewStore();
  ASSERT_TRUE(Admit(*store).granted);
  redis_.Freeze();
  absl::Notification done;
  bool shutting_down = false;
  absl::Time now = absl::Now();
  store->Admit("cred", "default", now, now + absl::Minutes(1),
               [&](QuotaStore::Admission a) {
                 shutting_down = a.shutting_down;
                 done.Notify();
               });
  store->Shutdown();
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_TRUE(shutting_down);
  EXPECT_TRUE(Admit(*store).shutting_down);
  redis_.Thaw();
}

}  // namespace
}  // namespace gitlab_gateway::limits
