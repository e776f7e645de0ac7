// The gitlab-gateway binary with the caller identity flags: what it refuses
// at start (exit status and the message naming the flag or port), and that
// the flags reach the server (TLS served, health-only port).
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"
#include "tests/support/test_certs.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs the gateway with `flags` (bounded by `timeout 20`); returns its exit
// status and leaves stdout+stderr in `text`.
int RunGateway(const std::string& flags, std::string* text) {
  const std::string command = absl::StrCat(
      "timeout 20 ", GG_GATEWAY_BINARY,
      " --metrics_listen= --gitlab_url=http://127.0.0.1:9 ", flags, " 2>&1");
  FILE* out = popen(command.c_str(), "r");
  if (out == nullptr) return -1;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), out) != nullptr) *text += buf;
  return pclose(out);
}

class CallerFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/gg-caller-flags-XXXXXX";
    dir_ = mkdtemp(pattern);
    absl::StatusOr<TestCa> ca = TestCa::Create(dir_, "ca");
    ASSERT_TRUE(ca.ok()) << ca.status();
    absl::StatusOr<CertFiles> a = ca->Issue("a", "localhost", "DNS:localhost");
    absl::StatusOr<CertFiles> b = ca->Issue("b", "localhost", "DNS:localhost");
    ASSERT_TRUE(a.ok() && b.ok());
    a_ = *a;
    b_ = *b;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  CertFiles a_, b_;
};

TEST_F(CallerFlagsTest, APortInUseStopsTheBinaryNamingIt) {
  GatewayHarness running;
  const std::string taken = absl::StrCat("127.0.0.1:", running.server->port());
  std::string text;
  int status = RunGateway(absl::StrCat("--listen=", taken), &text);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 1) << text;
  EXPECT_THAT(
      text, HasSubstr(absl::StrCat("--listen: cannot serve gRPC on ", taken)));
}

TEST_F(CallerFlagsTest, UnusableTlsOrCallersFilesStopTheBinary) {
  struct Row {
    std::string flags;
    int exit_code;
    std::string error;
  };
  const std::string callers = dir_ + "/callers";
  std::FILE* f = std::fopen(callers.c_str(), "w");
  std::fputs("ci raw-secret-pasted-here\n", f);
  std::fclose(f);
  const Row rows[] = {
      {absl::StrCat("--tls_cert_file=", a_.cert), 2,
       "--tls_key_file: --tls_cert_file and --tls_key_file go together"},
      {absl::StrCat("--tls_cert_file=", a_.cert, " --tls_key_file=", b_.key), 1,
       "does not match the certificate of --tls_cert_file"},
      {absl::StrCat("--tls_client_ca_file=", a_.cert), 2,
       "--tls_client_ca_file: client certificates need TLS"},
      {absl::StrCat("--callers_file=", callers), 1,
       absl::StrCat("--callers_file: ", callers,
                    ": line 1: the digest must be 64 hex digits")},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.flags);
    std::string text;
    int status =
        RunGateway(absl::StrCat("--listen=127.0.0.1:0 ", row.flags), &text);
    ASSERT_TRUE(WIFEXITED(status)) << text;
    EXPECT_EQ(WEXITSTATUS(status), row.exit_code) << text;
    EXPECT_THAT(text, HasSubstr(row.error));
    EXPECT_THAT(text, Not(HasSubstr("raw-secret-pasted-here")));
  }
}

TEST_F(CallerFlagsTest, TheEnvironmentConfiguresTlsAndTheHealthPort) {
  std::string text;
  // Starts, logs, and is stopped by `timeout` (SIGTERM: drains, exit 0);
  // 10 s leaves a loaded machine ample time to start.
  const std::string command = absl::StrCat(
      "GITLAB_GATEWAY_TLS_CERT_FILE=", a_.cert,
      " GITLAB_GATEWAY_TLS_KEY_FILE=", a_.key,
      " GITLAB_GATEWAY_HEALTH_LISTEN=127.0.0.1:0 timeout --preserve-status 10 ",
      GG_GATEWAY_BINARY,
      " --listen=127.0.0.1:0 --metrics_listen= "
      "--gitlab_url=http://127.0.0.1:9 2>&1");
  FILE* out = popen(command.c_str(), "r");
  ASSERT_NE(out, nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof(buf), out) != nullptr) text += buf;
  int status = pclose(out);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_THAT(text, HasSubstr("; TLS; health-only port "));
  EXPECT_THAT(text, Not(HasSubstr("health-only port 0\n")));
}

}  // namespace
}  // namespace gitlab_gateway::testing
