#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_ADDRESS_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"

namespace gitlab_gateway::limits {

// "redis://[:password@]host[:port][/db]" (the scheme may be omitted).
struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;  // from the URL; "" when none
};
// Errors name the part that is wrong, never echo the URL (it may hold the
// password). Pure; any thread.
absl::StatusOr<RedisAddress> ParseRedisUrl(const std::string& url);

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_ADDRESS_H_
