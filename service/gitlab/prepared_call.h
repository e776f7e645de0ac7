#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_PREPARED_CALL_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_PREPARED_CALL_H_

#include <grpcpp/support/status.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/engine/http_types.h"
#include "service/gitlab/credentials.h"
#include "service/gitlab/named_credentials.h"
#include "service/gitlab/url_builder.h"

namespace gitlab_gateway::gitlab {

// What Prepare needs to know about the gateway's GitLab.
struct PrepareOptions {
  BaseUrl base_url;
  // Used when a request names no credentials; none = unauthenticated.
  std::optional<Credential> default_credential;
  // Held by name (--credentials_dir), chosen by Request.credential_name or
  // the caller's default; null = none.
  std::shared_ptr<const NamedCredentials> named_credentials;
  // Applied when neither Request.timeout nor the RPC deadline says otherwise.
  absl::Duration default_timeout = absl::Seconds(30);
  // Upper bound for Request.timeout.
  absl::Duration max_timeout = absl::Minutes(10);
};

// A caller's Request turned, in one pass, into everything the attempt loop
// needs: the HTTP exchange to send (validated, URL built, credential resolved
// once, deadline set) and the names it is known by. Plain value.
struct PreparedCall {
  engine::HttpRequest http;  // the attempt template
  std::string id;            // Request.id, echoed in every Response
  std::string path;          // under the API root, for ResourceInfo on 404
  std::string route;         // metric label: "/projects/:id/issues/:iid"
  // Limiter key: a hash of the token, never the token ("anonymous": none).
  std::string credential_key;
  // "default" (a credential the gateway holds, named or not, or none) or
  // "caller" (Request.credentials): metric label.
  std::string credential_class;
  // Which credential, never the token: a name from --credentials_dir,
  // "default" (the default token), "request" (Request.credentials) or "none".
  // Bounded (the names the gateway holds plus three): metric/log label.
  std::string credential_name;
  bool graphql = false;  // a 200 with "errors" is an error
  // Request.max_attempts: 0 = the gateway's retry setting, else at most
  // this many attempts (never more than the gateway's); validated >= 0.
  int max_attempts = 0;
};

// The deadline a call gets: with Request.timeout (capped at max_timeout),
// the earlier of now + it and the RPC deadline; else the RPC deadline; else
// (no deadline at all) now + default_timeout. Pure; any thread.
absl::Time CallDeadline(const ::gitlab::gateway::v1::Request& request,
                        absl::Time rpc_deadline, absl::Time now,
                        const PrepareOptions& options);

// Validates `request` and prepares it, or returns the INVALID_ARGUMENT (with
// BadRequest naming the field) it is refused with. Pure; any thread.
//
// The credential: Request.credentials when set (credential_name must then
// be empty), else the one named by Request.credential_name, else the one
// named `fallback_credential` (the caller's default from the policy), else
// the default token, else none. A name the gateway does not hold is
// INVALID_ARGUMENT naming credential_name (the value is never echoed: it may
// be a token sent in the wrong field). Whether the caller may use it is the
// policy's decision, after Prepare.
//
//   gitlab::PreparedCall call;
//   grpc::Status refused = gitlab::Prepare(request, options, rpc_deadline,
//                                          absl::Now(), &call);
grpc::Status Prepare(const ::gitlab::gateway::v1::Request& request,
                     const PrepareOptions& options, absl::Time rpc_deadline,
                     absl::Time now, PreparedCall* call,
                     absl::string_view fallback_credential = "");

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_PREPARED_CALL_H_
