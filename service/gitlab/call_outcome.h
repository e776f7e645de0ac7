#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_CALL_OUTCOME_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_CALL_OUTCOME_H_

#include <grpcpp/support/status.h>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/engine/http_types.h"
#include "service/gitlab/owned_response.h"
#include "service/gitlab/prepared_call.h"

namespace gitlab_gateway::gitlab {

// What one call ended with. `response` carries the id always, and GitLab's
// status, headers and body whenever GitLab answered (also when `status` is an
// error), so BatchExecute can return both.
struct CallOutcome {
  grpc::Status status;
  OwnedResponse response;  // never moved from before the outcome is done
};

using CallDone = absl::AnyInvocable<void(CallOutcome)>;

// What an attempt's result means for the caller: the gRPC status (GitLab's
// error mapping, the transport error, or GraphQL "errors") and the Response
// (id, attempts, and for an answer its status, headers, page, `advertised`
// RateLimit-* and body, moved in). `domain` is the GitLab host named in
// ErrorInfo. Costs in proportion to the answer's size (UTF-8 checks, error
// parsing): see UpstreamCall for where it runs. Pure; any thread.
CallOutcome Interpret(const PreparedCall& call, absl::string_view domain,
                      absl::StatusOr<engine::HttpResponse> result, int attempts,
                      ::gitlab::gateway::v1::RateLimit advertised,
                      absl::Time now);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_CALL_OUTCOME_H_
