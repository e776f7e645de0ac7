#include "service/gitlab/throttle_scope.h"

#include "gtest/gtest.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

v1::RateLimit Named(std::string name) {
  v1::RateLimit rate;
  rate.set_name(std::move(name));
  return rate;
}

TEST(ThrottleScopeTest, PerUserAndPerIpThrottlesPauseTheCredential) {
  for (const char* name :
       {"throttle_authenticated_api", "throttle_unauthenticated_api",
        "throttle_authenticated_web", "throttle_unauthenticated_web",
        "throttle_unauthenticated", "Throttle_Authenticated_API"}) {
    EXPECT_EQ(ScopeOf(Named(name)), ThrottleScope::kCredential) << name;
  }
}

TEST(ThrottleScopeTest, ThrottlesOfAGroupOfPathsPauseTheEndpoint) {
  for (const char* name :
       {"throttle_authenticated_packages_api", "throttle_authenticated_files_api",
        "throttle_unauthenticated_deprecated_api",
        "throttle_authenticated_protected_paths_api",
        "throttle_authenticated_git_lfs", "some_future_throttle"}) {
    EXPECT_EQ(ScopeOf(Named(name)), ThrottleScope::kEndpoint) << name;
  }
}

TEST(ThrottleScopeTest, NoNameDependsOnTheOtherHeaders) {
  // An endpoint limit (ApplicationRateLimiter) sends no RateLimit-* at all.
  EXPECT_EQ(ScopeOf(v1::RateLimit()), ThrottleScope::kEndpoint);
  // RateLimit-* without a name: a limiter that counts every call.
  v1::RateLimit limit;
  limit.set_limit(600);
  EXPECT_EQ(ScopeOf(limit), ThrottleScope::kCredential);
  v1::RateLimit reset;
  reset.mutable_reset()->set_seconds(1700000000);
  EXPECT_EQ(ScopeOf(reset), ThrottleScope::kCredential);
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
