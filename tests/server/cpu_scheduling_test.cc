// --sched_batch: the calling thread and the threads it starts afterwards run
// under SCHED_BATCH; threads started before keep their policy.
#include "service/server/cpu_scheduling.h"

#include <sched.h>

#include <thread>

#include "gtest/gtest.h"

namespace gitlab_gateway::server {
namespace {

int PolicyInNewThread() {
  int policy = -1;
  std::thread([&policy] { policy = sched_getscheduler(0); }).join();
  return policy;
}

TEST(CpuSchedulingTest, TheCallerAndItsLaterThreadsRunUnderSchedBatch) {
  if (sched_getscheduler(0) != SCHED_OTHER) {
    GTEST_SKIP() << "the test runs under another policy already";
  }
  // In a thread of its own, so the test runner's main thread is untouched.
  std::thread([] {
    ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER);
    ASSERT_EQ(PolicyInNewThread(), SCHED_OTHER);
    ASSERT_TRUE(UseBatchScheduling().ok());
    EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
    EXPECT_EQ(PolicyInNewThread(), SCHED_BATCH);
    // Nice value unchanged: SCHED_BATCH alters wake-up preemption only.
    sched_param param{};
    ASSERT_EQ(sched_getparam(0, &param), 0);
    EXPECT_EQ(param.sched_priority, 0);
    // The engine's loop thread goes back (and stays back: a second call is
    // a no-op).
    ASSERT_TRUE(UseNormalScheduling().ok());
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
    EXPECT_EQ(PolicyInNewThread(), SCHED_OTHER);
    EXPECT_TRUE(UseNormalScheduling().ok());
  }).join();
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
}

}  // namespace
}  // namespace gitlab_gateway::server
