// Bearer secrets against the callers file, end to end: right and wrong
// bearers on every RPC, the file reloading under a live connection, bearer
// over TLS, and no secret in the gateway's log or in error messages.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"
#include "tests/support/test_certs.h"
#include "tests/support/tls_channel.h"
#include "tests/support/sha256_hex.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Distinctive secrets, so a leak is found by a plain search.
constexpr char kAliceSecret[] = "alice-SECRET-5b1e9c";
constexpr char kBobSecret[] = "bob-SECRET-0d44a7";
constexpr char kWrongSecret[] = "wrong-SECRET-9f2c31";
constexpr char kPastedSecret[] = "pasted-SECRET-77aa01";
// What the README tells operators to run: printf %s "$secret" | sha256sum.
std::string Sha256sumPrints(const std::string& secret) {
  std::string out;
  FILE* p =
      popen(absl::StrCat("printf %s '", secret, "' | sha256sum").c_str(), "r");
  char buf[128] = {0};
  if (p != nullptr && std::fgets(buf, sizeof(buf), p) != nullptr) out = buf;
  if (p != nullptr) pclose(p);
  return out.substr(0, 64);
}

// Captures this process's stderr (the gateway's log) into a file.
class StderrCapture {
 public:
  explicit StderrCapture(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    FILE* file = std::fopen(path_.c_str(), "w");
    dup2(fileno(file), STDERR_FILENO);
    std::fclose(file);
  }
  // Restores stderr and returns what was written meanwhile.
  std::string Stop() {
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    return ReadWholeFile(path_);
  }

 private:
  std::string path_;
  int saved_ = -1;
};

class CallerBearerTest : public ::testing::Test {
 protected:
  CallerBearerTest() {
    char pattern[] = "/tmp/gg-caller-bearer-XXXXXX";
    dir_ = mkdtemp(pattern);
    callers_ = dir_ + "/callers";
  }
  ~CallerBearerTest() override { std::filesystem::remove_all(dir_); }

  void WriteCallers(const std::string& text) {
    std::ofstream(callers_ + ".new") << text;
    std::rename((callers_ + ".new").c_str(), callers_.c_str());
  }

  std::unique_ptr<GatewayHarness> Start(bool tls = false) {
    return std::make_unique<GatewayHarness>(
        [this, tls](server::GatewayConfig& config) {
          config.callers_file = callers_;
          config.callers_reload = absl::Milliseconds(50);
          if (tls) {
            config.tls.cert_file = server_.cert;
            config.tls.key_file = server_.key;
          }
        });
  }

  static grpc::Status ExecuteAs(v1::Gateway::Stub& stub,
                                const std::string& secret) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    if (!secret.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", secret));
    }
    v1::Response response;
    return stub.Execute(&context, Get("/projects/42"), &response);
  }

  std::string dir_;
  std::string callers_;
  CertFiles server_;
};

TEST_F(CallerBearerTest, DigestsAreWhatSha256sumPrints) {
  // The README's recipe and the table agree (a sanity check of the test's
  // own constants).
  EXPECT_EQ(Sha256Hex("hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  for (const char* secret : {kAliceSecret, kBobSecret}) {
    EXPECT_EQ(Sha256Hex(secret), Sha256sumPrints(secret));
  }
}

TEST_F(CallerBearerTest, AWrongBearerIsRefusedOnEveryRpcAndNothingGoesUp) {
  WriteCallers(absl::StrCat("alice ", Sha256Hex(kAliceSecret), "\n"));
  std::unique_ptr<GatewayHarness> h = Start();
  ASSERT_TRUE(ExecuteAs(*h->stub, kAliceSecret).ok());
  ASSERT_EQ(h->fake.request_count(), 1u);
  h->fake.ClearRecords();

  grpc::Status execute = ExecuteAs(*h->stub, kWrongSecret);
  EXPECT_EQ(execute.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(execute, HasReason("CALLER_UNAUTHENTICATED"));
  EXPECT_THAT(execute.error_message(), Not(HasSubstr(kWrongSecret)));
  EXPECT_THAT(execute.error_message(), HasSubstr("matches no caller"));

  {  // BatchExecute: refused at start, no item is read.
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kWrongSecret));
    auto stream = h->stub->BatchExecute(&context);
    stream->Write(Get("/projects/42"));
    stream->WritesDone();
    v1::Response response;
    EXPECT_FALSE(stream->Read(&response));
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(status, HasReason("CALLER_UNAUTHENTICATED"));
  }
  {  // Paginate.
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kWrongSecret));
    v1::PaginateRequest request;
    *request.mutable_request() = Get("/projects");
    auto reader = h->stub->Paginate(&context, request);
    v1::Response response;
    EXPECT_FALSE(reader->Read(&response));
    grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(status, HasReason("CALLER_UNAUTHENTICATED"));
  }
  {  // Another scheme.
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Basic YWxpY2U6cGFzcw==");
    v1::Response response;
    grpc::Status status =
        h->stub->Execute(&context, Get("/projects/42"), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(status, HasReason("CALLER_UNAUTHENTICATED"));
  }
  EXPECT_EQ(h->fake.request_count(), 0u);
  // Without credentials the caller is anonymous; policy (not identity)
  // decides what anonymous callers may do.
  EXPECT_TRUE(ExecuteAs(*h->stub, "").ok());
}

TEST_F(CallerBearerTest, ABearerToAGatewayWithoutCallersIsRefused) {
  GatewayHarness h;
  grpc::Status status = ExecuteAs(*h.stub, kAliceSecret);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status, HasReason("CALLER_UNAUTHENTICATED"));
  EXPECT_THAT(status.error_message(), HasSubstr("no callers file"));
  EXPECT_EQ(h.fake.request_count(), 0u);
}

// The Secret changes under a live connection: the next call on the same
// channel is judged by the new table; a broken file keeps the last one.
// Nothing of any secret reaches the gateway's log.
TEST_F(CallerBearerTest, TheCallersFileReloadsUnderALiveConnection) {
  StderrCapture log(dir_ + "/stderr");
  WriteCallers(absl::StrCat("alice ", Sha256Hex(kAliceSecret), "\n"));
  std::unique_ptr<GatewayHarness> h = Start();
  const auth::CallersFile* callers = h->server->callers();
  ASSERT_NE(callers, nullptr);
  EXPECT_TRUE(ExecuteAs(*h->stub, kAliceSecret).ok());
  EXPECT_EQ(ExecuteAs(*h->stub, kBobSecret).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  WriteCallers(absl::StrCat("# alice left\nbob ", Sha256Hex(kBobSecret), "\n"));
  ASSERT_TRUE(callers->AwaitLoads(2, absl::Seconds(30)));
  EXPECT_TRUE(ExecuteAs(*h->stub, kBobSecret).ok());
  // bob, added by the reload, has his own `caller` label.
  EXPECT_EQ(h->server->metrics().CallerLabel("bob"), "bob");
  grpc::Status alice = ExecuteAs(*h->stub, kAliceSecret);
  EXPECT_EQ(alice.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(alice, HasReason("CALLER_UNAUTHENTICATED"));

  // An operator pastes a raw secret instead of its digest: refused, logged
  // once without the line, bob keeps working.
  WriteCallers(absl::StrCat("carol ", kPastedSecret, "\n"));
  ASSERT_TRUE(callers->AwaitFailures(1, absl::Seconds(30)));
  EXPECT_TRUE(ExecuteAs(*h->stub, kBobSecret).ok());
  EXPECT_EQ(h->fake.request_count(), 3u);
  h.reset();

  const std::string text = log.Stop();
  EXPECT_THAT(text, HasSubstr("callers file"));
  EXPECT_THAT(text, HasSubstr("line 1: the digest must be 64 hex digits"));
  for (const char* secret :
       {kAliceSecret, kBobSecret, kWrongSecret, kPastedSecret}) {
    EXPECT_THAT(text, Not(HasSubstr(secret)));
  }
}

TEST_F(CallerBearerTest, BearerWorksOverTls) {
  absl::StatusOr<TestCa> ca = TestCa::Create(dir_, "ca");
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<CertFiles> server =
      ca->Issue("server", "localhost", "DNS:localhost,IP:127.0.0.1");
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *server;
  WriteCallers(absl::StrCat("alice ", Sha256Hex(kAliceSecret), "\n"));
  std::unique_ptr<GatewayHarness> h = Start(/*tls=*/true);
  auto stub =
      v1::Gateway::NewStub(TlsChannel(h->server->port(), ca->cert_file()));
  EXPECT_TRUE(ExecuteAs(*stub, kAliceSecret).ok());
  EXPECT_EQ(ExecuteAs(*stub, kWrongSecret).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(h->fake.request_count(), 1u);
}

}  // namespace
}  // namespace gitlab_gateway::testing
