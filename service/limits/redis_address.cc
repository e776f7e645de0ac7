#include "service/limits/redis_address.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace gitlab_gateway::limits {

absl::StatusOr<RedisAddress> ParseRedisUrl(const std::string& url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "redis://") &&
      absl::StrContains(rest, "://")) {
    return absl::InvalidArgumentError(
        "must start with redis:// (rediss:// TLS is not supported)");
  }
  RedisAddress address;
  if (size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    // "user:password" or ":password"; the user (ACLs) is not supported.
    size_t colon = userinfo.find(':');
    if (colon == absl::string_view::npos || colon != 0) {
      return absl::InvalidArgumentError(
          "credentials must be \":password@\" (no user name)");
    }
    address.password = std::string(userinfo.substr(colon + 1));
  }
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    absl::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!absl::SimpleAtoi(db, &address.db) || address.db < 0 ||
                        address.db > 15)) {
      return absl::InvalidArgumentError("database must be a number 0..15");
    }
  }
  absl::string_view host = rest;
  if (size_t colon = rest.rfind(':'); colon != absl::string_view::npos) {
    host = rest.substr(0, colon);
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &address.port) ||
        address.port < 1 || address.port > 65535) {
      return absl::InvalidArgumentError("port must be a number 1..65535");
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("host must not be empty");
  address.host = std::string(host);
  return address;
}

}  // namespace gitlab_gateway::limits
