#include "service/gitlab/throttle_scope.h"

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;

ThrottleScope ScopeOf(const v1::RateLimit& advertised) {
  if (advertised.name().empty()) {
    const bool rack_attack_like = advertised.has_limit() ||
                                  advertised.has_remaining() ||
                                  advertised.has_reset();
    return rack_attack_like ? ThrottleScope::kCredential
                            : ThrottleScope::kEndpoint;
  }
  const std::string name = absl::AsciiStrToLower(advertised.name());
  for (absl::string_view per_user :
       {"throttle_authenticated_api", "throttle_unauthenticated_api",
        "throttle_authenticated_web", "throttle_unauthenticated_web",
        "throttle_unauthenticated"}) {
    if (name == per_user) return ThrottleScope::kCredential;
  }
  return ThrottleScope::kEndpoint;
}

}  // namespace gitlab_gateway::gitlab
