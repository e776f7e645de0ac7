#include "service/limits/retry_budget.h"

#include "gtest/gtest.h"

namespace gitlab_gateway::limits {
namespace {

TEST(RetryBudgetTest, MinimumAlwaysAllowed) {
  RetryBudget budget(0.2, 3);
  budget.RequestStarted();
  EXPECT_TRUE(budget.TryStartRetry());
  EXPECT_TRUE(budget.TryStartRetry());
  EXPECT_TRUE(budget.TryStartRetry());
  EXPECT_FALSE(budget.TryStartRetry());
  budget.RetryFinished();
  EXPECT_TRUE(budget.TryStartRetry());
}

TEST(RetryBudgetTest, RatioOfActiveRequests) {
  RetryBudget budget(0.2, 3);
  for (int i = 0; i < 100; ++i) budget.RequestStarted();
  int granted = 0;
  while (budget.TryStartRetry()) ++granted;
  EXPECT_EQ(granted, 20);
  for (int i = 0; i < 90; ++i) budget.RequestFinished();
  for (int i = 0; i < 20; ++i) budget.RetryFinished();
  granted = 0;
  while (budget.TryStartRetry()) ++granted;
  EXPECT_EQ(granted, 3);  // 0.2 x 10 = 2 < minimum 3
}

}  // namespace
}  // namespace gitlab_gateway::limits
