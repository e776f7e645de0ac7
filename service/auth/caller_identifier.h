#ifndef GITLAB_GATEWAY_SERVICE_AUTH_CALLER_IDENTIFIER_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_CALLER_IDENTIFIER_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "service/auth/caller.h"
#include "service/auth/callers_file.h"

namespace gitlab_gateway::auth {

// Decides who makes an RPC, once, when it starts:
//  1. `authorization: Bearer <secret>` metadata: the callers file's name for
//     the secret's SHA-256 (Via::kBearer). A bearer that matches no caller,
//     any other scheme, several `authorization` values, or a bearer sent to
//     a gateway without a callers file is refused: a credential that was
//     presented is never silently ignored.
//  2. else a verified TLS client certificate (mTLS): its first URI SAN (a
//     SPIFFE id), else its first DNS SAN, else its CN (Via::kCertificate).
//  3. else anonymous. Whether anonymous callers may do anything is policy's
//     decision, not this class's.
// Refusals are UNAUTHENTICATED with a message that names the problem and
// never the secret. Whether a client certificate is required is decided
// earlier, at the TLS handshake (--tls_client_ca_file).
//
// Immutable; any thread (gRPC handlers call it at RPC start). The callers
// file must outlive it.
class CallerIdentifier {
 public:
  // `callers`: null when no callers file is configured.
  explicit CallerIdentifier(const CallersFile* callers) : callers_(callers) {}

  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) const;

  // The same from the RPC's parts; `auth` may be null (no transport
  // security).
  absl::StatusOr<Caller> Identify(
      const grpc::AuthContext* auth,
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;

 private:
  const CallersFile* const callers_;
};

// The identity of the peer's verified certificate, as above (URI SAN, DNS
// SAN, CN); nullopt when the peer presented none. Any thread.
std::optional<std::string> CertificateIdentity(const grpc::AuthContext& auth);

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_CALLER_IDENTIFIER_H_
