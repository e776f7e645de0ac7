#ifndef GITLAB_GATEWAY_TESTS_SERVER_GATEWAY_HARNESS_H_
#define GITLAB_GATEWAY_TESTS_SERVER_GATEWAY_HARNESS_H_

// A real GatewayServer on 127.0.0.1:0 in front of a FakeGitLab, plus a real
// gRPC client stub; error details are read with tests/support/
// status_matchers.h (included). Test thread only.

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gitlab/gateway/v1/gateway.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/gitlab/credentials.h"
#include "service/server/gateway_server.h"
#include "tests/server/closed_port.h"
#include "tests/support/fake_gitlab.h"
#include "tests/support/status_matchers.h"

namespace gitlab_gateway::testing {

namespace v1 = ::gitlab::gateway::v1;

inline constexpr char kDefaultToken[] = "default-secret-token";

class GatewayHarness {
 public:
  // `tune` may adjust the config before the server starts.
  explicit GatewayHarness(
      std::function<void(server::GatewayConfig&)> tune = nullptr) {
    server::GatewayConfig config;
    config.listen_address = "127.0.0.1:0";
    // civetweb's exposer takes ~2 s to stop; tests that scrape turn it on.
    config.metrics_address = "";
    // Tests about the access log turn it on (to a file).
    config.access_log = "off";
    config.gitlab_url = fake.base_url();
    config.upstream.default_credential =
        gitlab::Credential{gitlab::TokenKind::kPrivate, kDefaultToken};
    // Test callers are anonymous; tests of the secure default (policy_*)
    // turn this off.
    config.upstream.allow_anonymous_default_token = true;
    // Tests about rate limits and retries turn these on; elsewhere one
    // scripted reply must match one call.
    config.upstream.limiter.per_minute = 0;
    config.upstream.retry.max_attempts = 1;
    if (tune) tune(config);
    auto started = server::GatewayServer::Start(std::move(config));
    if (!started.ok()) {
      ADD_FAILURE() << started.status();
      std::abort();
    }
    server = *std::move(started);
    channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()),
                                  grpc::InsecureChannelCredentials());
    stub = v1::Gateway::NewStub(channel);
  }

  // Execute with a 10 s deadline.
  grpc::Status Execute(const v1::Request& request, v1::Response* response,
                       absl::Duration deadline = absl::Seconds(10)) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    return stub->Execute(&context, request, response);
  }

  // Waits up to `timeout` for the engine to hold no transfer in flight (a
  // cancelled call's transfer leaves curl on the engine thread, a moment
  // after the caller saw CANCELLED).
  void WaitForNoTransfersInFlight(absl::Duration timeout) {
    absl::Time give_up = absl::Now() + timeout;
    while (server->engine().load().in_flight != 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  // GET http://127.0.0.1:<metrics port>/metrics.
  std::string ScrapeMetrics() {
    std::string body;
    CURL* easy = curl_easy_init();
    std::string url =
        absl::StrCat("http://127.0.0.1:", server->metrics_port(), "/metrics");
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
                     +[](char* p, size_t s, size_t n, void* out) {
                       static_cast<std::string*>(out)->append(p, s * n);
                       return s * n;
                     });
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    EXPECT_EQ(rc, CURLE_OK);
    return body;
  }

  FakeGitLab fake;  // declared first: outlives the server
  std::unique_ptr<server::GatewayServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Gateway::Stub> stub;
};

// A GET of `path` (relative to /api/v4).
inline v1::Request Get(std::string path) {
  v1::Request request;
  request.set_path(std::move(path));
  return request;
}

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SERVER_GATEWAY_HARNESS_H_
