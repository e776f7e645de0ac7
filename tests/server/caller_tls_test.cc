// The gateway's gRPC port over TLS and mTLS: who gets in, certificate
// rotation under live connections, the plaintext health-only port, and a
// port already in use. Certificates are made at test time (test_certs.h).
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"
#include "tests/support/test_certs.h"
#include "tests/support/tls_channel.h"

namespace gitlab_gateway::testing {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

// Two unrelated CAs, a server certificate from each, and client
// certificates from each.
class CallerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/gg-caller-tls-XXXXXX";
    dir_ = mkdtemp(pattern);
    absl::StatusOr<TestCa> a = TestCa::Create(dir_, "ca-a");
    absl::StatusOr<TestCa> b = TestCa::Create(dir_, "ca-b");
    ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
    ca_a_ = std::make_unique<TestCa>(*a);
    ca_b_ = std::make_unique<TestCa>(*b);
    const std::string server_san = "DNS:localhost,IP:127.0.0.1";
    absl::StatusOr<CertFiles> server_a =
        ca_a_->Issue("server-a", "localhost", server_san);
    absl::StatusOr<CertFiles> server_b =
        ca_b_->Issue("server-b", "localhost", server_san);
    absl::StatusOr<CertFiles> client_a =
        ca_a_->Issue("client-a", "ci", "URI:spiffe://example.org/ci");
    absl::StatusOr<CertFiles> client_b =
        ca_b_->Issue("client-b", "ci", "URI:spiffe://example.org/ci");
    ASSERT_TRUE(server_a.ok() && server_b.ok() && client_a.ok() &&
                client_b.ok());
    server_a_ = *server_a;
    server_b_ = *server_b;
    client_a_ = *client_a;
    client_b_ = *client_b;
    // The files the gateway serves from; rotation replaces them.
    live_ = CertFiles{dir_ + "/live.pem", dir_ + "/live.key"};
    Install(server_a_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Replaces the served pair as the kubelet does: written aside, renamed.
  void Install(const CertFiles& files) {
    std::filesystem::copy_file(
        files.key, live_.key + ".new",
        std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(
        files.cert, live_.cert + ".new",
        std::filesystem::copy_options::overwrite_existing);
    std::rename((live_.key + ".new").c_str(), live_.key.c_str());
    std::rename((live_.cert + ".new").c_str(), live_.cert.c_str());
  }

  // A gateway serving TLS from the live files (mTLS when `client_ca`).
  std::unique_ptr<GatewayHarness> StartTls(std::string client_ca = "") {
    return std::make_unique<GatewayHarness>(
        [this, client_ca](server::GatewayConfig& config) {
          config.tls.cert_file = live_.cert;
          config.tls.key_file = live_.key;
          config.tls.client_ca_file = client_ca;
          config.tls.refresh = absl::Seconds(1);
          config.health_listen_address = "127.0.0.1:0";
        });
  }

  static grpc::Status ExecuteOn(std::shared_ptr<grpc::Channel> channel,
                                absl::Duration deadline = absl::Seconds(20)) {
    auto stub = v1::Gateway::NewStub(std::move(channel));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::Response response;
    return stub->Execute(&context, Get("/projects/42"), &response);
  }

  std::string dir_;
  std::unique_ptr<TestCa> ca_a_;
  std::unique_ptr<TestCa> ca_b_;
  CertFiles server_a_, server_b_, client_a_, client_b_, live_;
};

TEST_F(CallerTlsTest, TlsServesCallsAndPlaintextCallersAreRefused) {
  std::unique_ptr<GatewayHarness> h = StartTls();
  EXPECT_TRUE(
      ExecuteOn(TlsChannel(h->server->port(), ca_a_->cert_file())).ok());
  EXPECT_EQ(h->fake.request_count(), 1u);
  grpc::Status plain =
      ExecuteOn(PlainChannel(h->server->port()), absl::Seconds(5));
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE)
      << plain.error_message();
  // A client trusting another CA does not accept the gateway either.
  grpc::Status untrusted = ExecuteOn(
      TlsChannel(h->server->port(), ca_b_->cert_file()), absl::Seconds(5));
  EXPECT_EQ(untrusted.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(h->fake.request_count(), 1u);
}

TEST_F(CallerTlsTest, MutualTlsAdmitsOnlyCertificatesFromTheClientCa) {
  std::unique_ptr<GatewayHarness> h = StartTls(ca_a_->cert_file());
  const int port = h->server->port();
  grpc::Status from_a =
      ExecuteOn(TlsChannel(port, ca_a_->cert_file(), &client_a_));
  EXPECT_TRUE(from_a.ok()) << from_a.error_message();
  ASSERT_EQ(h->fake.request_count(), 1u);

  // Same names, another CA: the handshake fails, nothing reaches GitLab.
  grpc::Status from_b = ExecuteOn(
      TlsChannel(port, ca_a_->cert_file(), &client_b_), absl::Seconds(5));
  EXPECT_EQ(from_b.error_code(), grpc::StatusCode::UNAVAILABLE)
      << from_b.error_message();
  // No certificate at all.
  grpc::Status none =
      ExecuteOn(TlsChannel(port, ca_a_->cert_file()), absl::Seconds(5));
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAVAILABLE)
      << none.error_message();
  EXPECT_EQ(h->fake.request_count(), 1u);
}

// cert-manager renews the Secret: new handshakes get the new certificate
// within the refresh interval, while a connection made before keeps working
// and a call in flight across the rotation completes.
TEST_F(CallerTlsTest, CertificateRotationNeedsNoRestartAndDropsNoCall) {
  std::unique_ptr<GatewayHarness> h = StartTls();
  const int port = h->server->port();
  absl::Notification release;
  h->fake.SetHandler([&release](const RecordedRequest& request) {
    if (request.path == "/api/v4/projects/held") {
      release.WaitForNotificationWithTimeout(absl::Seconds(60));
    }
    return Reply::Json(200, R"({"id":42})");
  });
  std::shared_ptr<grpc::Channel> before = TlsChannel(port, ca_a_->cert_file());
  ASSERT_TRUE(ExecuteOn(before).ok());
  // A client trusting only CA B cannot connect yet.
  EXPECT_EQ(ExecuteOn(TlsChannel(port, ca_b_->cert_file()), absl::Seconds(5))
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // A call in flight on the old connection while the files change.
  auto stub = v1::Gateway::NewStub(before);
  grpc::ClientContext held_context;
  held_context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(90)));
  v1::Response held_response;
  absl::Notification held_done;
  grpc::Status held_status;
  v1::Request held = Get("/projects/held");
  stub->async()->Execute(&held_context, &held, &held_response,
                         [&](grpc::Status status) {
                           held_status = std::move(status);
                           held_done.Notify();
                         });
  ASSERT_TRUE(h->fake.WaitForRequests(2, absl::Seconds(20)));

  Install(server_b_);
  // New handshakes see CA B's certificate once gRPC re-read the files
  // (refresh 1 s); each attempt is a new connection. gRPC offers no signal
  // for a reload, so this polls, gently.
  bool rotated = false;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (!rotated && absl::Now() < give_up) {
    rotated =
        ExecuteOn(TlsChannel(port, ca_b_->cert_file()), absl::Seconds(5)).ok();
    if (!rotated) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(rotated) << "new handshakes never saw the new certificate";
  // ... and clients still trusting only CA A no longer can.
  EXPECT_EQ(ExecuteOn(TlsChannel(port, ca_a_->cert_file()), absl::Seconds(5))
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // The connection made before the rotation is still up and usable.
  EXPECT_TRUE(ExecuteOn(before).ok());
  release.Notify();
  ASSERT_TRUE(held_done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_TRUE(held_status.ok()) << held_status.error_message();
}

// Kubernetes probes cannot speak TLS: the health-only port is plaintext,
// answers grpc.health.v1 and nothing else, and turns NOT_SERVING with the
// main port when the gateway drains.
TEST_F(CallerTlsTest, TheHealthPortServesOnlyHealthAndFollowsTheDrain) {
  std::unique_ptr<GatewayHarness> h = StartTls(ca_a_->cert_file());
  ASSERT_NE(h->server->health_port(), 0);
  std::shared_ptr<grpc::Channel> plain = PlainChannel(h->server->health_port());
  auto health = grpc::health::v1::Health::NewStub(plain);
  auto check = [&health](const std::string& service) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.status();
  };
  EXPECT_EQ(check(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(check("gitlab.gateway.v1.Gateway"), HealthCheckResponse::SERVING);
  grpc::Status gateway = ExecuteOn(plain);
  EXPECT_EQ(gateway.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(h->fake.request_count(), 0u);

  // Drain with a call in flight: the health port says NOT_SERVING meanwhile.
  absl::Notification release;
  h->fake.SetHandler([&release](const RecordedRequest&) {
    release.WaitForNotificationWithTimeout(absl::Seconds(60));
    return Reply::Json(200, R"({"id":42})");
  });
  auto stub = v1::Gateway::NewStub(
      TlsChannel(h->server->port(), ca_a_->cert_file(), &client_a_));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(90)));
  v1::Response response;
  absl::Notification call_done;
  grpc::Status call_status;
  v1::Request request = Get("/projects/42");
  stub->async()->Execute(&context, &request, &response,
                         [&](grpc::Status status) {
                           call_status = std::move(status);
                           call_done.Notify();
                         });
  ASSERT_TRUE(h->fake.WaitForRequests(1, absl::Seconds(20)));
  std::thread drain([&h] { h->server->Shutdown(absl::Seconds(60)); });
  HealthCheckResponse::ServingStatus seen = HealthCheckResponse::SERVING;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (seen == HealthCheckResponse::SERVING && absl::Now() < give_up) {
    seen = check("");
  }
  EXPECT_EQ(seen, HealthCheckResponse::NOT_SERVING);
  release.Notify();
  drain.join();
  ASSERT_TRUE(call_done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(call_status.ok()) << call_status.error_message();
}

// gRPC sets SO_REUSEPORT by default, which let a second gateway start on a
// port in use and take half of its connections.
TEST_F(CallerTlsTest, APortInUseStopsTheStartNamingIt) {
  GatewayHarness first;
  const std::string taken = absl::StrCat("127.0.0.1:", first.server->port());
  server::GatewayConfig config;
  config.listen_address = taken;
  config.metrics_address = "";
  config.gitlab_url = first.fake.base_url();
  absl::StatusOr<std::unique_ptr<server::GatewayServer>> second =
      server::GatewayServer::Start(config);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(
      std::string(second.status().message()),
      HasSubstr(absl::StrCat("--listen: cannot serve gRPC on ", taken, ": ")));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));

  // The health port too.
  config.listen_address = "127.0.0.1:0";
  config.health_listen_address = taken;
  second = server::GatewayServer::Start(config);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("--health_listen: cannot serve health on ",
                                     taken)));
  // The first gateway still serves.
  v1::Response response;
  grpc::Status still = first.Execute(Get("/projects/42"), &response);
  EXPECT_TRUE(still.ok()) << still.error_message();
}

TEST_F(CallerTlsTest, BrokenTlsFilesStopTheStartNamingTheFlag) {
  server::GatewayConfig config;
  config.listen_address = "127.0.0.1:0";
  config.metrics_address = "";
  config.tls.cert_file = server_a_.cert;
  config.tls.key_file = server_b_.key;
  absl::StatusOr<std::unique_ptr<server::GatewayServer>> started =
      server::GatewayServer::Start(config);
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(std::string(started.status().message()),
              HasSubstr("--tls_key_file: "));
  EXPECT_THAT(std::string(started.status().message()),
              HasSubstr("does not match the certificate"));
}

}  // namespace
}  // namespace gitlab_gateway::testing
