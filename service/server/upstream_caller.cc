#include "service/server/upstream_caller.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/engine/curl_status.h"
#include "service/gitlab/request_validator.h"
#include "service/gitlab/response_body.h"
#include "service/gitlab/response_headers.h"
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

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

// Copies GitLab's answer into the Response a caller sees.
void FillResponse(engine::HttpResponse http, v1::Response* response) {
  response->set_status_code(http.status_code);
  response->set_attempts(1);
  SetDuration(http.latency, response->mutable_upstream_latency());
  *response->mutable_page() = gitlab::ParsePage(http.headers);
  *response->mutable_rate_limit() = gitlab::ParseRateLimit(http.headers);
  for (auto& [name, value] : http.headers) {
    v1::Header* header = response->add_headers();
    header->set_name(gitlab::ToValidUtf8(name));
    header->set_value(gitlab::ToValidUtf8(value));
  }
  gitlab::SetBody(http.content_type, std::move(http.body), response);
}

}  // namespace

void UpstreamCall::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (transfer_.has_value()) engine_->Cancel(*transfer_);
}

void UpstreamCall::Attach(engine::TransferId id) {
  absl::MutexLock lock(&mu_);
  transfer_ = id;
  if (cancelled_) engine_->Cancel(id);
}

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
    : engine_(engine), metrics_(metrics), options_(std::move(options)) {}

absl::StatusOr<engine::HttpRequest> UpstreamCaller::BuildHttpRequest(
    const v1::Request& request, absl::Time deadline) const {
  absl::StatusOr<std::string> method = gitlab::NormalizeMethod(request.method());
  if (!method.ok()) return method.status();
  engine::HttpRequest http;
  http.method = *std::move(method);
  http.url = gitlab::BuildRestUrl(options_.base_url, request.path(),
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
                                                    uint64_t flow) {
  auto call = std::make_shared<UpstreamCall>(engine_);
  CallOutcome refused;
  refused.response.set_id(request.id());
  if (std::optional<gitlab::FieldViolation> violation =
          gitlab::ValidateRequest(request)) {
    refused.status = gitlab::InvalidArgument(*violation);
    done(std::move(refused));
    return call;
  }
  if (request.api() == v1::API_GRAPHQL) {
    refused.status = gitlab::GatewayError(
        grpc::StatusCode::UNIMPLEMENTED, "GRAPHQL_NOT_IMPLEMENTED",
        "api: API_GRAPHQL is not implemented by this gateway version");
    done(std::move(refused));
    return call;
  }
  absl::Time now = absl::Now();
  absl::StatusOr<engine::HttpRequest> http =
      BuildHttpRequest(request, CallDeadline(request, rpc_deadline, now, options_));
  if (!http.ok()) {
    refused.status = gitlab::MapTransportError(http.status(), 0);
    done(std::move(refused));
    return call;
  }
  http->flow = flow;
  std::string method = http->method;
  auto on_done = [this, id = request.id(), path = request.path(), method,
                  done = std::move(done)](
                     absl::StatusOr<engine::HttpResponse> result) mutable {
    std::string route = gitlab::RouteTemplate(path);
    CallOutcome outcome;
    outcome.response.set_id(std::move(id));
    if (!result.ok()) {
      metrics_->CountUpstreamFailure(
          method, route,
          engine::ReasonOf(result.status()).value_or("UNKNOWN"));
      outcome.status = gitlab::MapTransportError(result.status(), 1);
      done(std::move(outcome));
      return;
    }
    engine::HttpResponse& http = *result;
    metrics_->ObserveUpstream(method, route, http.status_code, http.latency);
    if (!gitlab::IsSuccess(http.status_code)) {
      gitlab::UpstreamAnswer answer{http.status_code, http.headers, http.body,
                                    http.content_type, path, absl::Now(), 1};
      outcome.status = gitlab::MapGitLabAnswer(options_.base_url.host, answer);
    }
    FillResponse(std::move(http), &outcome.response);
    done(std::move(outcome));
  };
  // A refusal (overload, shutdown) has already run on_done with its status.
  absl::StatusOr<engine::TransferId> id =
      engine_->Submit(*std::move(http), std::move(on_done));
  if (id.ok()) call->Attach(*id);
  return call;
}

}  // namespace gitlab_gateway::server
