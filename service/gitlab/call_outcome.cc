#include "service/gitlab/call_outcome.h"

#include <string>
#include <utility>

#include "service/gitlab/response_body.h"
#include "service/gitlab/response_headers.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

// Valid UTF-8 as is (moved, no copy), else repaired.
std::string Utf8(std::string& s) {
  return IsValidUtf8(s) ? std::move(s) : ToValidUtf8(s);
}

// Moves GitLab's answer into the Response a caller sees.
void FillResponse(engine::HttpResponse http, int attempts,
                  v1::RateLimit rate_limit, v1::Response* response) {
  response->set_status_code(http.status_code);
  response->set_attempts(attempts);
  SetDuration(http.latency, response->mutable_upstream_latency());
  *response->mutable_page() = ParsePage(http.headers);
  *response->mutable_rate_limit() = std::move(rate_limit);
  response->mutable_headers()->Reserve(static_cast<int>(http.headers.size()));
  for (auto& [name, value] : http.headers) {
    v1::Header* header = response->add_headers();
    header->set_name(Utf8(name));
    header->set_value(Utf8(value));
  }
  SetBody(http.content_type, std::move(http.body), response);
}

}  // namespace

CallOutcome Interpret(const PreparedCall& call, absl::string_view domain,
                      absl::StatusOr<engine::HttpResponse> result, int attempts,
                      v1::RateLimit advertised, absl::Time now) {
  CallOutcome outcome;
  outcome.response->set_id(call.id);
  if (!result.ok()) {
    outcome.status = MapTransportError(result.status(), attempts);
    outcome.response->set_attempts(attempts);
    return outcome;
  }
  const engine::HttpResponse& http = *result;
  const bool failed = !IsSuccess(http.status_code);
  if (failed || call.graphql) {
    UpstreamAnswer answer{http.status_code, http.headers, http.body,
                          http.content_type, call.path, now, attempts};
    outcome.status = failed ? MapGitLabAnswer(domain, answer)
                            : MapGraphqlErrors(domain, answer);
  }
  FillResponse(*std::move(result), attempts, std::move(advertised),
               outcome.response.get());
  return outcome;
}

}  // namespace gitlab_gateway::gitlab
