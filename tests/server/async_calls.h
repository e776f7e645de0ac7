#ifndef GITLAB_GATEWAY_TESTS_SERVER_ASYNC_CALLS_H_
#define GITLAB_GATEWAY_TESTS_SERVER_ASYNC_CALLS_H_

#include <grpcpp/grpcpp.h>

#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {

// `n` Execute calls started at once on the harness's stub; `done` counts
// them down as they end. Statuses and responses are indexed like Start's.
struct AsyncCalls {
  explicit AsyncCalls(size_t n)
      : contexts(n), requests(n), responses(n), statuses(n), done(n) {}
  void Start(GatewayHarness& h, size_t i, v1::Request request,
             absl::Duration deadline = absl::Seconds(20)) {
    requests[i] = std::move(request);
    contexts[i].set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    h.stub->async()->Execute(&contexts[i], &requests[i], &responses[i],
                             [this, i](grpc::Status s) {
                               statuses[i] = s;
                               done.DecrementCount();
                             });
  }
  std::vector<grpc::ClientContext> contexts;
  std::vector<v1::Request> requests;
  std::vector<v1::Response> responses;
  std::vector<grpc::Status> statuses;
  absl::BlockingCounter done;
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SERVER_ASYNC_CALLS_H_
