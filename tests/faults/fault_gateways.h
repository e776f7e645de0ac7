#ifndef GITLAB_GATEWAY_TESTS_FAULTS_FAULT_GATEWAYS_H_
#define GITLAB_GATEWAY_TESTS_FAULTS_FAULT_GATEWAYS_H_

// A FaultyUpstream and two real gateways in front of it, configured as the
// README's "Fault cases" table assumes. Test thread only (the harnesses'
// stubs may be used from any thread).

#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "tests/faults/fault_cases.h"
#include "tests/faults/faulty_upstream.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {

// Retries on (the default three attempts), a 1 MiB response cap
// (--max_response_mb=1), and a small BatchExecute window so that fault calls
// never hold every upstream slot (64) and healthy callers never queue.
inline void TuneForFaults(server::GatewayConfig& config,
                          std::string gitlab_url) {
  config.gitlab_url = std::move(gitlab_url);
  config.engine.max_response_bytes = size_t{1} << 20;
  config.upstream.retry.max_attempts = 3;
  config.batch_window = 8;
}

// `plain` speaks HTTP to the upstream; `https` is configured for https
// against the same plaintext port, so its every call fails the handshake.
struct FaultGateways {
  explicit FaultGateways(FaultyUpstreamOptions options = {})
      : upstream(options),
        plain([this](server::GatewayConfig& c) {
          TuneForFaults(c, upstream.base_url());
        }),
        https([this](server::GatewayConfig& c) {
          TuneForFaults(c, upstream.https_base_url());
        }) {}

  GatewayHarness& For(const FaultCase& c) {
    return c.via == Via::kHttpsGateway ? https : plain;
  }

  // Both gateways hold no transfer once every call has been answered.
  void ExpectDrained() {
    for (GatewayHarness* h : {&plain, &https}) {
      h->WaitForNoTransfersInFlight(absl::Seconds(10));
      engine::EngineLoad load = h->server->engine().load();
      EXPECT_EQ(load.in_flight, 0u);
      EXPECT_EQ(load.queued, 0u);
    }
  }

  FaultyUpstream upstream;  // first: outlives both gateways
  GatewayHarness plain;
  GatewayHarness https;
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_FAULTS_FAULT_GATEWAYS_H_
