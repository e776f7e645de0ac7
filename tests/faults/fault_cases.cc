#include "tests/faults/fault_cases.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/error_details.pb.h"
#include "tests/support/status_details.h"

namespace gitlab_gateway::testing {
namespace {

using grpc::StatusCode;

FaultCase Case(const char* name, Fault fault, int status = 0) {
  FaultCase c;
  c.name = name;
  c.fault = fault;
  c.status = status;
  return c;
}

void Expect(FaultCase& c, StatusCode code,
            std::initializer_list<const char*> reasons,
            bool retry_info = false) {
  for (const char* reason : reasons)
    c.outcomes.push_back({code, reason, retry_info});
}

// A call that runs into its deadline: in the transfer, or (on a busy
// gateway) before a slot was free.
void ExpectTimeout(FaultCase& c) {
  Expect(c, StatusCode::DEADLINE_EXCEEDED,
         {"UPSTREAM_TIMEOUT", "QUEUE_TIMEOUT"});
}

std::vector<FaultCase> BuildCases() {
  std::vector<FaultCase> cases;
  FaultCase c = Case("reset mid-body", Fault::kResetMidBody);
  Expect(c, StatusCode::UNAVAILABLE, {"UPSTREAM_CONNECTION_FAILURE"});
  cases.push_back(c);

  c = Case("stall after headers", Fault::kStallAfterHeaders);
  c.short_timeout = true;
  ExpectTimeout(c);
  cases.push_back(c);

  c = Case("1 byte/s drip", Fault::kDrip);
  c.short_timeout = true;
  ExpectTimeout(c);
  cases.push_back(c);

  c = Case("endless chunked body past the cap", Fault::kEndlessChunked);
  Expect(c, StatusCode::RESOURCE_EXHAUSTED, {"RESPONSE_TOO_LARGE"});
  cases.push_back(c);

  c = Case("garbage instead of HTTP", Fault::kGarbage);
  Expect(c, StatusCode::UNAVAILABLE, {"UPSTREAM_PROTOCOL_ERROR"});
  cases.push_back(c);

  c = Case("malformed status line", Fault::kBadStatusLine);
  Expect(c, StatusCode::UNAVAILABLE, {"UPSTREAM_PROTOCOL_ERROR"});
  cases.push_back(c);

  c = Case("1xx storm (100 Continue every 1 ms)", Fault::kContinueStorm);
  c.short_timeout = true;
  ExpectTimeout(c);
  cases.push_back(c);

  struct Storm {
    const char* name;
    int status;
    StatusCode code;
    const char* reason;
  };
  for (Storm s : {Storm{"5xx storm (500)", 500, StatusCode::INTERNAL,
                        "GITLAB_INTERNAL_ERROR"},
                  Storm{"5xx storm (502)", 502, StatusCode::UNAVAILABLE,
                        "GITLAB_BAD_GATEWAY"},
                  Storm{"5xx storm (503)", 503, StatusCode::UNAVAILABLE,
                        "GITLAB_UNAVAILABLE"},
                  Storm{"5xx storm (504)", 504, StatusCode::DEADLINE_EXCEEDED,
                        "GITLAB_GATEWAY_TIMEOUT"}}) {
    c = Case(s.name, Fault::kStatus, s.status);
    Expect(c, s.code, {s.reason});
    cases.push_back(c);
  }

  // The call's timeout is shorter than the 1 s pause: GitLab's 429 or, while
  // the credential pauses, the gateway's own refusal, both with RetryInfo. A
  // call admitted just before its deadline (the pause ends in time, leaving
  // at least 50 ms) may still run out of time on a busy machine.
  c = Case("429 storm (Retry-After: 1)", Fault::kStatus, 429);
  c.short_timeout = true;
  c.private_token = "fault-429-storm-token";
  Expect(c, StatusCode::RESOURCE_EXHAUSTED,
         {"GITLAB_RATE_LIMITED", "GATEWAY_RATE_LIMITED"}, /*retry_info=*/true);
  ExpectTimeout(c);
  cases.push_back(c);

  c = Case("404 with 45,000 headers", Fault::kHugeHeaders);
  Expect(c, StatusCode::UNAVAILABLE, {"UPSTREAM_PROTOCOL_ERROR"});
  cases.push_back(c);

  c = Case("idle keep-alive connection closed by the server",
           Fault::kIdleClose);
  cases.push_back(c);

  c = Case("TLS handshake failure (https to a plaintext port)",
           Fault::kHealthy);
  c.via = Via::kHttpsGateway;
  Expect(c, StatusCode::UNAVAILABLE, {"UPSTREAM_TLS_FAILURE"});
  cases.push_back(c);
  return cases;
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

}  // namespace

const std::vector<FaultCase>& FaultCases() {
  static const std::vector<FaultCase>* cases =
      new std::vector<FaultCase>(BuildCases());
  return *cases;
}

gitlab::gateway::v1::Request RequestFor(const FaultCase& c, std::string id,
                                        const Timeouts& timeouts) {
  gitlab::gateway::v1::Request request;
  request.set_id(std::move(id));
  request.set_path(FaultPath(c.fault, c.status));
  SetDuration(c.short_timeout ? timeouts.short_timeout : timeouts.long_timeout,
              request.mutable_timeout());
  if (c.private_token != nullptr) {
    request.mutable_credentials()->set_private_token(c.private_token);
  }
  return request;
}

std::string CheckOutcome(const FaultCase& c, grpc::StatusCode code,
                         const google::rpc::Status& rpc) {
  const std::vector<std::string> infos = Reasons(rpc);
  const size_t retry_infos = Details<google::rpc::RetryInfo>(rpc).size();
  std::vector<std::string> wanted;
  for (const Outcome& o : c.outcomes) {
    wanted.push_back(
        absl::StrCat(o.code, "/", o.reason, o.retry_info ? "+RetryInfo" : ""));
  }
  auto wrong = [&](absl::string_view why) {
    return absl::StrCat(c.name, ": ", why, "; want ",
                        wanted.empty() ? "OK" : absl::StrJoin(wanted, " or "),
                        ", got code ", code, " reasons [",
                        absl::StrJoin(infos, ","), "] message \"",
                        rpc.message(), "\"");
  };
  if (code == grpc::StatusCode::OK) {
    return c.outcomes.empty() ? "" : wrong("succeeded");
  }
  if (rpc.code() != code) return wrong("google.rpc.Status code differs");
  if (infos.size() != 1) return wrong("not exactly one ErrorInfo");
  for (const Outcome& o : c.outcomes) {
    if (o.code != code || o.reason != infos[0]) continue;
    if (o.retry_info && retry_infos != 1) return wrong("no single RetryInfo");
    return "";
  }
  return wrong("undocumented answer");
}

std::string CheckOutcome(const FaultCase& c, const grpc::Status& status) {
  std::optional<google::rpc::Status> parsed = ParseRpcStatus(status);
  if (!status.ok() && !parsed.has_value()) {
    return absl::StrCat(c.name, ": error_details do not parse (code ",
                        status.error_code(), " \"", status.error_message(),
                        "\")");
  }
  google::rpc::Status rpc = parsed.value_or(google::rpc::Status());
  if (!status.ok() && rpc.message().empty()) {
    rpc.set_message(status.error_message());
  }
  return CheckOutcome(c, status.error_code(), rpc);
}

}  // namespace gitlab_gateway::testing
