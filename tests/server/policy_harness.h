#ifndef GITLAB_GATEWAY_TESTS_SERVER_POLICY_HARNESS_H_
#define GITLAB_GATEWAY_TESTS_SERVER_POLICY_HARNESS_H_

// A GatewayHarness under the secure default (no anonymous default token),
// with named credentials and a policy file in a temporary directory, and a
// way to call as an authenticated auth::Caller before callers can prove an
// identity over gRPC: UpstreamCaller::Start with a constructed Caller.
// Test thread only.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "service/auth/caller.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {

inline constexpr char kReadonlyToken[] = "readonly-secret-token";
inline constexpr char kBotToken[] = "release-bot-secret-token";

class PolicyDir {
 public:
  PolicyDir() {
    char tmpl[] = "/tmp/gg-policy-gw-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~PolicyDir() { std::filesystem::remove_all(dir_); }

  // Replaces the policy file atomically (as a ConfigMap update does).
  void WritePolicy(const std::string& json) {
    std::ofstream(dir_ + "/.policy.tmp") << json;
    std::filesystem::rename(dir_ + "/.policy.tmp", policy_path());
  }
  std::string policy_path() const { return dir_ + "/policy.json"; }

 private:
  std::string dir_;
};

// The secure default: a default token, named credentials "readonly" and
// "release-bot", and `policy_json` as --policy_file (polled every 20 ms).
inline std::function<void(server::GatewayConfig&)> SecureConfig(
    PolicyDir& dir, const std::string& policy_json) {
  dir.WritePolicy(policy_json);
  return [&dir](server::GatewayConfig& config) {
    config.upstream.allow_anonymous_default_token = false;
    auto named = std::make_shared<gitlab::NamedCredentials>();
    named->emplace("readonly", gitlab::Credential{gitlab::TokenKind::kPrivate,
                                                  kReadonlyToken});
    named->emplace("release-bot",
                   gitlab::Credential{gitlab::TokenKind::kOAuth, kBotToken});
    config.upstream.named_credentials = named;
    config.policy_file = dir.policy_path();
    config.policy_poll_interval = absl::Milliseconds(20);
  };
}

// One call through the gateway's UpstreamCaller as `caller`; waits for it.
inline grpc::Status CallAs(GatewayHarness& h, const auth::Caller& caller,
                           const v1::Request& request,
                           v1::Response* response = nullptr) {
  absl::Notification done;
  grpc::Status status;
  h.server->upstream_caller().Start(caller, server::RpcInfo{"Execute", {}}, request,
                                    absl::Now() + absl::Seconds(10),
                                    [&](server::CallOutcome outcome) {
                                      status = outcome.status;
                                      if (response != nullptr)
                                        *response = *outcome.response;
                                      done.Notify();
                                    });
  done.WaitForNotification();
  return status;
}

inline auth::Caller Bearer(std::string name) {
  return auth::Caller{std::move(name), auth::Caller::Via::kBearer};
}

// The one ErrorInfo's metadata value `key` ("" when absent).
inline std::string InfoMetadata(const grpc::Status& status,
                                const std::string& key) {
  auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
  auto it = info.metadata().find(key);
  return it == info.metadata().end() ? "" : it->second;
}

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SERVER_POLICY_HARNESS_H_
