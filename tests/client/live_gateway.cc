// live_gateway: a real GatewayServer on 127.0.0.1:<ephemeral> in front of the
// demo FakeGitLab (demo_gitlab.h), for tests whose client is another process
// (the CLI, Python, Node). Prints "127.0.0.1:<port>" on stdout once serving,
// then serves until stdin closes, SIGTERM/SIGINT, or --max_seconds pass.
//
//   live_gateway --max_seconds 120   # stdin held open by the caller
//   live_gateway --secure DIR [--mtls]
//
// Loopback only. Default credential: private token "live-gateway-token".
// Plaintext by default, and anyone may spend the default token.
//
// --secure DIR: TLS with certificates made at start in DIR (which must
// exist), as a shared deployment runs: the default token only for callers
// known by their bearer secret. DIR then holds
//   ca.pem            the CA that signed the server's certificate
//   server.pem/.key   the server (CN localhost, SAN localhost + 127.0.0.1)
//   client.pem/.key   a client certificate from ca.pem (CN example-app,
//                     URI SAN spiffe://example.org/example-app)
//   other-ca.pem      an unrelated CA (a client trusting only it must fail)
//   caller-token      caller "example-app"'s bearer secret (random)
//   callers           the callers file: example-app and its SHA-256
//   policy.json       example-app (by bearer or by certificate) may spend
//                     the default token on anything, sudo and GraphQL too
// --mtls (with --secure): client certificates from ca.pem are required.
#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/server/gateway_server.h"
#include "tests/client/demo_gitlab.h"
#include "tests/support/fake_gitlab.h"
#include "tests/support/sha256_hex.h"
#include "tests/support/test_certs.h"

namespace {

int MaxSeconds(int argc, char** argv) {
  int seconds = 300;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--max_seconds") == 0 &&
        (!absl::SimpleAtoi(argv[i + 1], &seconds) || seconds <= 0)) {
      std::fprintf(stderr, "live_gateway: --max_seconds: not a positive int\n");
      std::exit(2);
    }
  }
  return seconds;
}

// The value of `flag` ("" when absent); whether `flag` is given at all.
std::string FlagValue(int argc, char** argv, const char* flag) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  }
  return "";
}
bool HasFlag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return true;
  }
  return false;
}

// --secure: the files listed at the top, and the config using them.
absl::Status MakeSecure(const std::string& dir, bool mtls,
                        gitlab_gateway::server::GatewayConfig& config) {
  using gitlab_gateway::testing::CertFiles;
  using gitlab_gateway::testing::TestCa;
  absl::StatusOr<TestCa> ca = TestCa::Create(dir, "ca");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<TestCa> other = TestCa::Create(dir, "other-ca");
  if (!other.ok()) return other.status();
  absl::StatusOr<CertFiles> server =
      ca->Issue("server", "localhost", "DNS:localhost,IP:127.0.0.1");
  if (!server.ok()) return server.status();
  absl::StatusOr<CertFiles> client = ca->Issue(
      "client", "example-app", "URI:spiffe://example.org/example-app");
  if (!client.ok()) return client.status();
  unsigned char random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return absl::InternalError("RAND_bytes failed");
  }
  const std::string secret =
      absl::StrCat("example-app-",
                   absl::BytesToHexString(absl::string_view(
                       reinterpret_cast<const char*>(random), sizeof(random))));
  const std::string token_file = dir + "/caller-token";
  std::ofstream(token_file) << secret << "\n";
  chmod(token_file.c_str(), 0600);
  std::ofstream(dir + "/callers")
      << "example-app " << gitlab_gateway::testing::Sha256Hex(secret) << "\n";
  std::ofstream(dir + "/policy.json") << R"({"callers": [
  {"name": "example-app", "credentials": ["default"],
   "sudo": {"any_user": true}, "graphql": true},
  {"name": "spiffe://example.org/example-app", "credentials": ["default"],
   "sudo": {"any_user": true}, "graphql": true}]}
)";
  config.policy_file = dir + "/policy.json";
  config.tls.cert_file = server->cert;
  config.tls.key_file = server->key;
  if (mtls) config.tls.client_ca_file = ca->cert_file();
  config.callers_file = dir + "/callers";
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const int max_seconds = MaxSeconds(argc, argv);
  // Block the stop signals before any thread starts; main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  gitlab_gateway::testing::FakeGitLab fake;
  gitlab_gateway::testing::ScriptDemoGitLab(fake);

  gitlab_gateway::server::GatewayConfig config;
  config.listen_address = "127.0.0.1:0";
  config.metrics_address = "";
  config.gitlab_url = fake.base_url();
  config.upstream.default_credential = gitlab_gateway::gitlab::Credential{
      gitlab_gateway::gitlab::TokenKind::kPrivate, "live-gateway-token"};
  const std::string secure_dir = FlagValue(argc, argv, "--secure");
  if (secure_dir.empty() && HasFlag(argc, argv, "--mtls")) {
    std::fprintf(stderr, "live_gateway: --mtls needs --secure DIR\n");
    return 2;
  }
  if (secure_dir.empty()) {
    // Plaintext, for tests of everything but caller identity.
    config.upstream.allow_anonymous_default_token = true;
  } else if (absl::Status s =
                 MakeSecure(secure_dir, HasFlag(argc, argv, "--mtls"), config);
             !s.ok()) {
    std::fprintf(stderr, "live_gateway: --secure: %s\n", s.ToString().c_str());
    return 1;
  }
  auto server = gitlab_gateway::server::GatewayServer::Start(std::move(config));
  if (!server.ok()) {
    std::fprintf(stderr, "live_gateway: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  std::printf("127.0.0.1:%d\n", (*server)->port());
  std::fflush(stdout);

  alarm(static_cast<unsigned>(max_seconds));
  // EOF on stdin (the parent went away or closed it) stops us too.
  std::thread stdin_watch([] {
    char buf[256];
    while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
    }
    kill(getpid(), SIGTERM);
  });
  stdin_watch.detach();

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  if (signal_number == SIGALRM) {
    std::fprintf(stderr, "live_gateway: --max_seconds %d passed, stopping\n",
                 max_seconds);
  }
  (*server)->Shutdown(absl::Seconds(1));
  server->reset();
  return signal_number == SIGALRM ? 3 : 0;
}
