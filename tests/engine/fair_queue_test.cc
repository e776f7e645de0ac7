#include "service/engine/fair_queue.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::engine {
namespace {

using ::testing::ElementsAre;

std::vector<uint64_t> Drain(FairQueue& q) {
  std::vector<uint64_t> out;
  while (auto id = q.Pop()) out.push_back(*id);
  return out;
}

TEST(FairQueueTest, FifoWithinOneFlow) {
  FairQueue q;
  for (uint64_t id : {1, 2, 3}) q.Push(9, id);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_THAT(Drain(q), ElementsAre(1, 2, 3));
  EXPECT_TRUE(q.empty());
}

TEST(FairQueueTest, RoundRobinAcrossFlows) {
  FairQueue q;
  for (uint64_t id = 1; id <= 5; ++id) q.Push(/*flow=*/1, id);  // a big batch
  q.Push(/*flow=*/0, 100);                                        // a unary call
  q.Push(/*flow=*/2, 200);
  // The unary call waits behind one batch entry, not five.
  EXPECT_THAT(Drain(q), ElementsAre(1, 100, 200, 2, 3, 4, 5));
  EXPECT_EQ(q.flows(), 0u);
}

TEST(FairQueueTest, RemoveIfKeepsOrderAndDropsEmptyFlows) {
  FairQueue q;
  q.Push(1, 1);
  q.Push(1, 2);
  q.Push(2, 3);
  q.Push(1, 4);
  q.RemoveIf([](uint64_t id) { return id == 2 || id == 3; });
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.flows(), 1u);
  EXPECT_THAT(Drain(q), ElementsAre(1, 4));
}

TEST(FairQueueTest, EmptyPopAndClear) {
  FairQueue q;
  EXPECT_EQ(q.Pop(), std::nullopt);
  q.Push(1, 1);
  q.Clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.Pop(), std::nullopt);
}

}  // namespace
}  // namespace gitlab_gateway::engine
