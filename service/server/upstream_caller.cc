#include "service/server/upstream_caller.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/server/upstream_call.h"
#include "service/gitlab/request_validator.h"
#include "service/gitlab/route_template.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::server {
namespace {

bool HasHeader(const v1::Request& request, absl::string_view name) {
  for (const v1::Header& header : request.headers()) {
    if (absl::EqualsIgnoreCase(header.name(), name)) return true;
  }
  return false;
}

absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace

absl::Time CallDeadline(const v1::Request& request, absl::Time rpc_deadline,
                        absl::Time now, const UpstreamOptions& options) {
  absl::Duration budget = options.default_timeout;
  if (request.has_timeout()) {
    budget = std::min(ToDuration(request.timeout()), options.max_timeout);
  }
  return std::min(rpc_deadline, now + budget);
}

UpstreamCaller::UpstreamCaller(engine::Engine* engine,
                               metrics::Metrics* metrics,
                               UpstreamOptions options)
    : engine_(engine),
      metrics_(metrics),
      options_(std::move(options)),
      budget_(options_.retry_budget_ratio, options_.retry_budget_min),
      limiters_(options_.limiter, &scheduler_,
                [metrics](const std::string& credential_class, int delta) {
                  metrics->PausedCredentials(credential_class, delta);
                }) {}

UpstreamCaller::~UpstreamCaller() = default;

absl::StatusOr<engine::HttpRequest> UpstreamCaller::BuildHttpRequest(
    const v1::Request& request, absl::Time deadline) const {
  absl::StatusOr<std::string> method = gitlab::RequestMethod(request);
  if (!method.ok()) return method.status();
  engine::HttpRequest http;
  http.method = *std::move(method);
  http.url = request.api() == v1::API_GRAPHQL
                 ? gitlab::BuildGraphqlUrl(options_.base_url)
                 : gitlab::BuildRestUrl(options_.base_url, request.path(),
                                        request.query());
  http.deadline = deadline;
  std::optional<gitlab::Credential> credential =
      gitlab::CredentialFromProto(request.credentials());
  if (!credential.has_value()) credential = options_.default_credential;
  if (credential.has_value()) {
    http.header_lines.push_back(gitlab::AuthHeaderLine(*credential));
  }
  if (!request.sudo().empty()) {
    http.header_lines.push_back(absl::StrCat("Sudo: ", request.sudo()));
  }
  for (const v1::Header& header : request.headers()) {
    // "Name;" is curl's spelling of a header with an empty value.
    http.header_lines.push_back(
        header.value().empty() ? absl::StrCat(header.name(), ";")
                               : absl::StrCat(header.name(), ": ", header.value()));
  }
  switch (request.body_case()) {
    case v1::Request::kText:
      http.body = request.text();
      if (!HasHeader(request, "Content-Type")) {
        http.header_lines.push_back("Content-Type: application/json");
      }
      break;
    case v1::Request::kContent:
      http.body = request.content();
      if (!HasHeader(request, "Content-Type")) {
        http.header_lines.push_back("Content-Type: application/octet-stream");
      }
      break;
    case v1::Request::BODY_NOT_SET:
      break;
  }
  return http;
}

std::shared_ptr<UpstreamCall> UpstreamCaller::Start(const v1::Request& request,
                                                    absl::Time rpc_deadline,
                                                    CallDone done,
                                                    uint64_t flow,
                                                    const std::string* url) {
  auto refuse = [&](grpc::Status status) -> std::shared_ptr<UpstreamCall> {
    CallOutcome refused;
    refused.response.set_id(request.id());
    refused.status = std::move(status);
    done(std::move(refused));
    return nullptr;
  };
  if (std::optional<gitlab::FieldViolation> violation =
          gitlab::ValidateRequest(request)) {
    return refuse(gitlab::InvalidArgument(*violation));
  }
  absl::StatusOr<engine::HttpRequest> http = BuildHttpRequest(
      request, CallDeadline(request, rpc_deadline, absl::Now(), options_));
  if (!http.ok()) return refuse(gitlab::MapTransportError(http.status(), 0));
  http->flow = flow;
  if (url != nullptr) http->url = *url;

  UpstreamCall::Setup setup;
  setup.http = *std::move(http);
  setup.id = request.id();
  setup.graphql = request.api() == v1::API_GRAPHQL;
  setup.path = setup.graphql ? "/api/graphql" : request.path();
  setup.route = setup.graphql ? "graphql" : gitlab::RouteTemplate(request.path());
  std::optional<gitlab::Credential> credential =
      gitlab::CredentialFromProto(request.credentials());
  setup.credential_class = credential.has_value() ? "caller" : "default";
  if (!credential.has_value()) credential = options_.default_credential;
  setup.credential_key =
      credential.has_value() ? gitlab::CredentialKey(*credential) : "anonymous";
  auto call =
      std::make_shared<UpstreamCall>(this, std::move(setup), std::move(done));
  call->Begin();
  return call;
}

}  // namespace gitlab_gateway::server
