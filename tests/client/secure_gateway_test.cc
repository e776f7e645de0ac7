// The C++ client library and gitlab-gateway-cli against a gateway that
// requires client certificates (mTLS) and knows callers by bearer secret.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "gitlab_gateway/client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/demo_gitlab.h"
#include "tests/client/subprocess.h"
#include "tests/server/gateway_harness.h"
#include "tests/support/test_certs.h"
#include "tests/support/sha256_hex.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "ci-TOKEN-3e81f0";
constexpr char kWrongToken[] = "wrong-TOKEN-c0ffee";

class SecureGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/gg-secure-gateway-XXXXXX";
    dir_ = mkdtemp(pattern);
    absl::StatusOr<TestCa> ca = TestCa::Create(dir_, "ca");
    absl::StatusOr<TestCa> other = TestCa::Create(dir_, "other-ca");
    ASSERT_TRUE(ca.ok() && other.ok()) << ca.status() << other.status();
    ca_file_ = ca->cert_file();
    absl::StatusOr<CertFiles> server =
        ca->Issue("server", "localhost", "DNS:localhost,IP:127.0.0.1");
    absl::StatusOr<CertFiles> client =
        ca->Issue("client", "ci", "URI:spiffe://example.org/ci");
    absl::StatusOr<CertFiles> stranger =
        other->Issue("stranger", "ci", "URI:spiffe://example.org/ci");
    ASSERT_TRUE(server.ok() && client.ok() && stranger.ok());
    client_ = *client;
    stranger_ = *stranger;
    std::ofstream(dir_ + "/callers") << "ci " << Sha256Hex(kToken) << "\n";
    std::ofstream(dir_ + "/token") << kToken << "\n";
    harness_ =
        std::make_unique<GatewayHarness>([&](server::GatewayConfig& config) {
          config.tls.cert_file = server->cert;
          config.tls.key_file = server->key;
          config.tls.client_ca_file = ca_file_;
          config.callers_file = dir_ + "/callers";
          config.health_listen_address = "127.0.0.1:0";
        });
    ScriptDemoGitLab(harness_->fake);
    target_ = absl::StrCat("127.0.0.1:", harness_->server->port());
  }
  void TearDown() override {
    harness_.reset();
    std::filesystem::remove_all(dir_);
  }

  ProcessResult Cli(std::vector<std::string> args,
                    std::vector<std::pair<std::string, std::string>> env = {}) {
    std::vector<std::string> argv = {GG_CLI_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::pair<std::string, std::string>> all = {
        {"GITLAB_GATEWAY_TARGET", ""},
        {"GITLAB_GATEWAY_CA_FILE", ""},
        {"GITLAB_GATEWAY_CERT_FILE", ""},
        {"GITLAB_GATEWAY_KEY_FILE", ""},
        {"GITLAB_GATEWAY_CALLER_TOKEN", ""},
        {"GITLAB_GATEWAY_PRIVATE_TOKEN", ""}};
    for (auto& e : env) all.push_back(std::move(e));
    ProcessResult r = RunProcess(argv, all, "", absl::Seconds(60));
    EXPECT_FALSE(r.timed_out) << r.err;
    return r;
  }

  std::string dir_;
  std::string ca_file_;
  CertFiles client_, stranger_;
  std::unique_ptr<GatewayHarness> harness_;
  std::string target_;
};

TEST_F(SecureGatewayTest, TheLibraryCallsWithCertificateAndBearer) {
  client::ClientOptions options;
  options.default_timeout = absl::Seconds(20);
  options.caller_token = *client::ReadCallerToken(dir_ + "/token");
  absl::StatusOr<client::Client> c = client::Client::Tls(
      target_, {ca_file_, client_.cert, client_.key}, options);
  ASSERT_TRUE(c.ok()) << c.status();
  v1::Request request;
  request.set_path("/projects/42");
  absl::StatusOr<v1::Response> response = c->Execute(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code(), 200);

  options.caller_token = kWrongToken;
  c = client::Client::Tls(target_, {ca_file_, client_.cert, client_.key},
                          options);
  ASSERT_TRUE(c.ok());
  response = c->Execute(request);
  ASSERT_FALSE(response.ok());
  client::DecodedError error = client::DecodeError(response.status());
  EXPECT_EQ(error.code, grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(error.reason, "CALLER_UNAUTHENTICATED");
  EXPECT_THAT(error.message, Not(HasSubstr(kWrongToken)));

  // A certificate from another CA, and none at all: the handshake fails.
  options.caller_token = kToken;
  for (const CertFiles& files : {stranger_, CertFiles{}}) {
    c = client::Client::Tls(target_, {ca_file_, files.cert, files.key},
                            options);
    ASSERT_TRUE(c.ok());
    options.default_timeout = absl::Seconds(5);
    response = c->Execute(request);
    EXPECT_EQ(client::DecodeError(response.status()).code,
              grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_EQ(harness_->fake.request_count(), 1u);

  absl::StatusOr<client::Client> missing =
      client::Client::Tls(target_, {dir_ + "/nope.pem", "", ""}, options);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr(dir_ + "/nope.pem"));
}

TEST_F(SecureGatewayTest, TheCliCallsOverMutualTlsWithABearer) {
  ProcessResult ok =
      Cli({"get", "/projects/42", "--target", target_, "--ca-file", ca_file_,
           "--cert", client_.cert, "--key", client_.key, "--caller-token-file",
           dir_ + "/token"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("\"id\": 42"));

  // The same from the environment alone, as the other clients take it.
  ProcessResult from_env =
      Cli({"get", "/projects/42", "--target", target_},
          {{"GITLAB_GATEWAY_CA_FILE", ca_file_},
           {"GITLAB_GATEWAY_CERT_FILE", client_.cert},
           {"GITLAB_GATEWAY_KEY_FILE", client_.key},
           {"GITLAB_GATEWAY_CALLER_TOKEN", kToken}});
  ASSERT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_THAT(from_env.out, HasSubstr("\"id\": 42"));

  ProcessResult wrong =
      Cli({"get", "/projects/42", "--target", target_, "--ca-file", ca_file_,
           "--cert", client_.cert, "--key", client_.key},
          {{"GITLAB_GATEWAY_CALLER_TOKEN", kWrongToken}});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("CALLER_UNAUTHENTICATED"));
  EXPECT_THAT(wrong.err + wrong.out, Not(HasSubstr(kWrongToken)));

  ProcessResult stranger = Cli(
      {"get", "/projects/42", "--target", target_, "--ca-file", ca_file_,
       "--cert", stranger_.cert, "--key", stranger_.key, "--deadline", "5s"},
      {{"GITLAB_GATEWAY_CALLER_TOKEN", kToken}});
  EXPECT_EQ(stranger.exit_code, 1);
  EXPECT_THAT(stranger.err, HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(harness_->fake.request_count(), 2u);

  // Health: on the plaintext health-only port, and over mTLS on the main one.
  ProcessResult plain_health =
      Cli({"health", "--target",
           absl::StrCat("127.0.0.1:", harness_->server->health_port())});
  EXPECT_EQ(plain_health.exit_code, 0) << plain_health.err;
  EXPECT_EQ(plain_health.out, "SERVING\n");
  ProcessResult tls_health =
      Cli({"health", "--target", target_, "--ca-file", ca_file_, "--cert",
           client_.cert, "--key", client_.key});
  EXPECT_EQ(tls_health.exit_code, 0) << tls_health.err;
  EXPECT_EQ(tls_health.out, "SERVING\n");

  ProcessResult missing = Cli({"get", "/projects/42", "--target", target_,
                               "--ca-file", dir_ + "/nope.pem"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr(dir_ + "/nope.pem"));
}

}  // namespace
}  // namespace gitlab_gateway::testing
