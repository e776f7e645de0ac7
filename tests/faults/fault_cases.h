#ifndef GITLAB_GATEWAY_TESTS_FAULTS_FAULT_CASES_H_
#define GITLAB_GATEWAY_TESTS_FAULTS_FAULT_CASES_H_

// The fault cases and what a caller must see for each (README "Fault cases"),
// shared by tests/faults and bench/soak. Plain data and pure functions; any
// thread.

#include <grpcpp/support/status.h>

#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/faults/faulty_upstream.h"

namespace gitlab_gateway::testing {

// Which gateway a case goes through: one whose GitLab is the
// FaultyUpstream's plaintext URL, or one configured for https against that
// same plaintext port (the TLS handshake fails).
enum class Via { kPlainGateway, kHttpsGateway };

// One answer a caller may get: the code and the ErrorInfo reason.
struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string reason;       // "" for OK
  bool retry_info = false;  // a RetryInfo detail is required
};

struct FaultCase {
  const char* name;  // "stall after headers"
  Fault fault;
  int status = 0;  // for Fault::kStatus
  Via via = Via::kPlainGateway;
  // The call's Request.timeout is the short one (it runs into its deadline,
  // or must not wait for a 1 s Retry-After) rather than the long one.
  bool short_timeout = false;
  // A caller token of its own (a 429 pauses only that credential), else
  // the gateway's credential.
  const char* private_token = nullptr;
  // The answers the README documents for it (any one of them); none: OK.
  std::vector<Outcome> outcomes;
};

// GoogleTest prints a case by its name.
inline void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

// Every case, in the README table's order.
const std::vector<FaultCase>& FaultCases();

struct Timeouts {
  absl::Duration short_timeout = absl::Milliseconds(400);
  // Generous: a quick answer comes long before; only a stalled gateway
  // (the defect this suite looks for) runs into it.
  absl::Duration long_timeout = absl::Seconds(10);
};

// The Request that provokes `c`, with `id` and the case's Request.timeout.
gitlab::gateway::v1::Request RequestFor(const FaultCase& c, std::string id,
                                        const Timeouts& timeouts = {});

// "" when `code` and `rpc` (the google.rpc.Status of the error, empty for
// OK) are what `c` documents; otherwise what differs, readable.
std::string CheckOutcome(const FaultCase& c, grpc::StatusCode code,
                         const google::rpc::Status& rpc);

// For an Execute: reads the google.rpc.Status out of `status`.
std::string CheckOutcome(const FaultCase& c, const grpc::Status& status);

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_FAULTS_FAULT_CASES_H_
