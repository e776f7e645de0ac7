#include "service/limits/scheduler.h"

#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::limits {
namespace {

using ::testing::ElementsAre;

TEST(SchedulerTest, RunsInTimeOrderWhateverTheInsertionOrder) {
  Scheduler scheduler;
  absl::Mutex mu;
  std::vector<int> order;
  absl::BlockingCounter done(3);
  // Far enough ahead that a preempted test thread still inserts all three
  // before the first is due.
  absl::Time now = absl::Now() + absl::Milliseconds(500);
  for (auto [delay_ms, tag] : {std::pair{60, 3}, std::pair{20, 1}, std::pair{40, 2}}) {
    scheduler.RunAt(now + absl::Milliseconds(delay_ms),
                    [&, tag = tag](bool stopping) {
                      EXPECT_FALSE(stopping);
                      {
                        absl::MutexLock lock(&mu);
                        order.push_back(tag);
                      }
                      // Outside the lock: once the count reaches zero the
                      // test returns and destroys `mu`.
                      done.DecrementCount();
                    });
  }
  done.Wait();
  EXPECT_THAT(order, ElementsAre(1, 2, 3));
}

TEST(SchedulerTest, NotBeforeTheRequestedTime) {
  Scheduler scheduler;
  absl::Time when = absl::Now() + absl::Milliseconds(50);
  absl::Time ran;
  absl::BlockingCounter done(1);
  scheduler.RunAt(when, [&](bool) {
    ran = absl::Now();
    done.DecrementCount();
  });
  done.Wait();
  EXPECT_GE(ran, when);
}

TEST(SchedulerTest, DestructorCompletesPendingTasks) {
  int stopped = 0;
  {
    Scheduler scheduler;
    for (int i = 0; i < 3; ++i) {
      scheduler.RunAt(absl::Now() + absl::Hours(1), [&](bool stopping) {
        if (stopping) ++stopped;
      });
    }
    EXPECT_EQ(scheduler.pending(), 3u);
  }
  EXPECT_EQ(stopped, 3);
}

}  // namespace
}  // namespace gitlab_gateway::limits
