// CallerIdentifier behind real TLS handshakes: a tiny gRPC server on
// MakeServerCredentials (grpc.health.v1 Check answers with the identity it
// saw) and clients presenting certificates with different names.
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/auth/caller_identifier.h"
#include "service/auth/server_tls.h"
#include "tests/support/test_certs.h"
#include "tests/support/tls_channel.h"

namespace gitlab_gateway::auth {
namespace {

using ::gitlab_gateway::testing::CertFiles;
using ::gitlab_gateway::testing::TestCa;
using ::gitlab_gateway::testing::TlsChannel;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

// Check answers NOT_FOUND with "<via> <name>" of the identified caller, or
// the refusal's message as UNAUTHENTICATED.
class WhoAmI final : public grpc::health::v1::Health::CallbackService {
 public:
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const HealthCheckRequest*,
                                  HealthCheckResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<Caller> caller =
        CallerIdentifier(nullptr).Identify(*context);
    if (!caller.ok()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   std::string(caller.status().message())));
    } else {
      const char* via = caller->via == Caller::Via::kCertificate ? "cert"
                        : caller->via == Caller::Via::kBearer    ? "bearer"
                                                                 : "none";
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                   absl::StrCat(via, " ", caller->name)));
    }
    return reactor;
  }
};

class CertificateIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/gg-cert-identity-XXXXXX";
    dir_ = mkdtemp(pattern);
    absl::StatusOr<TestCa> ca = TestCa::Create(dir_, "ca");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCa>(*ca);
    absl::StatusOr<CertFiles> server =
        ca_->Issue("server", "localhost", "DNS:localhost,IP:127.0.0.1");
    ASSERT_TRUE(server.ok()) << server.status();
    TlsOptions tls{server->cert, server->key, ca_->cert_file()};
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeServerCredentials(tls);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  // The status Check answers for a client presenting `client`.
  grpc::Status WhoAmIAs(const CertFiles& client) {
    auto stub = grpc::health::v1::Health::NewStub(
        TlsChannel(port_, ca_->cert_file(), &client));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    HealthCheckResponse response;
    return stub->Check(&context, HealthCheckRequest(), &response);
  }

  std::string dir_;
  std::unique_ptr<TestCa> ca_;
  WhoAmI service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(CertificateIdentityTest, TheUriSanComesFirst) {
  absl::StatusOr<CertFiles> client = ca_->Issue(
      "spiffe", "ignored-cn",
      "DNS:ignored.example.org,URI:spiffe://example.org/ns/ci/sa/runner");
  ASSERT_TRUE(client.ok()) << client.status();
  grpc::Status status = WhoAmIAs(*client);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_EQ(status.error_message(),
            "cert spiffe://example.org/ns/ci/sa/runner");
}

TEST_F(CertificateIdentityTest, ThenTheDnsSan) {
  absl::StatusOr<CertFiles> client =
      ca_->Issue("dns", "ignored-cn", "DNS:billing.internal");
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(WhoAmIAs(*client).error_message(), "cert billing.internal");
}

TEST_F(CertificateIdentityTest, ThenTheCommonName) {
  absl::StatusOr<CertFiles> client = ca_->Issue("cn", "release-bot", "");
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(WhoAmIAs(*client).error_message(), "cert release-bot");
}

TEST(ServerTlsTest, BrokenFilesAreRefusedNamingTheFlag) {
  char pattern[] = "/tmp/gg-server-tls-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  absl::StatusOr<TestCa> ca = TestCa::Create(dir, "ca");
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<CertFiles> a = ca->Issue("a", "a", "DNS:localhost");
  absl::StatusOr<CertFiles> b = ca->Issue("b", "b", "DNS:localhost");
  ASSERT_TRUE(a.ok() && b.ok());
  struct Row {
    TlsOptions options;
    std::string error;
  };
  const Row rows[] = {
      {{dir + "/missing.pem", a->key, ""},
       "--tls_cert_file: " + dir + "/missing.pem: cannot be read"},
      {{a->key, a->key, ""},
       "--tls_cert_file: " + a->key + ": holds no PEM certificate"},
      {{a->cert, a->cert, ""},
       "--tls_key_file: " + a->cert + ": holds no PEM private key"},
      {{a->cert, b->key, ""},
       "--tls_key_file: " + b->key +
           ": does not match the certificate of --tls_cert_file"},
      {{a->cert, a->key, a->key},
       "--tls_client_ca_file: " + a->key + ": holds no PEM certificate"},
      {{a->cert, "", ""}, "--tls_key_file: must be set"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.error);
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeServerCredentials(row.options);
    ASSERT_FALSE(credentials.ok());
    EXPECT_THAT(std::string(credentials.status().message()),
                HasSubstr(row.error));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gitlab_gateway::auth
