#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_THROTTLE_SCOPE_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_THROTTLE_SCOPE_H_

#include "gitlab/gateway/v1/gateway.pb.h"

namespace gitlab_gateway::gitlab {

// What a GitLab rate limit counts, from an answer's parsed RateLimit-*
// headers (ParseRateLimit). Pure; any thread.
//
// GitLab has two kinds of limiter (doc/administration/settings/
// user_and_ip_rate_limits, ../shared/GITLAB_API_NOTES.md):
//  - Rack::Attack throttles set RateLimit-* and name themselves in
//    RateLimit-Name. The per-user / per-IP ones (throttle_authenticated_api,
//    throttle_unauthenticated_api, the _web pair, and the older
//    throttle_unauthenticated) count every call of the user: kCredential.
//    The others (packages, files, deprecated API, protected paths, Git LFS
//    and Git HTTP) count only their own group of paths: kEndpoint.
//  - Endpoint limits (ApplicationRateLimiter: search, notes, raw files,
//    import/export, ...) set no RateLimit-* headers: kEndpoint.
// With no RateLimit-Name but RateLimit-Limit, -Remaining or -Reset present
// (an older GitLab, or GitLab.com's former HAProxy limit, which counted
// every call): kCredential. With no name and none of them: kEndpoint.
enum class ThrottleScope { kCredential, kEndpoint };

ThrottleScope ScopeOf(const ::gitlab::gateway::v1::RateLimit& advertised);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_THROTTLE_SCOPE_H_
