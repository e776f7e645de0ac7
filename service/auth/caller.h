#ifndef GITLAB_GATEWAY_SERVICE_AUTH_CALLER_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_CALLER_H_

#include <string>

namespace gitlab_gateway::auth {

// Who is calling the gateway, decided once per RPC before any request of it
// goes down (TLS client certificate or bearer secret; see issue #13). Policy
// decisions, metrics and the access log name callers by `name`. Plain value.
struct Caller {
  enum class Via { kNone, kCertificate, kBearer };

  // The name in the callers file, or the certificate's identity (URI SAN,
  // else DNS SAN, else CN); "anonymous" when the caller proved nothing.
  std::string name = "anonymous";
  Via via = Via::kNone;

  bool authenticated() const { return via != Via::kNone; }
};

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_CALLER_H_
