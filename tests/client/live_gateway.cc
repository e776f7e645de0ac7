// live_gateway: a real GatewayServer on 127.0.0.1:<ephemeral> in front of the
// demo FakeGitLab (demo_gitlab.h), for tests whose client is another process
// (the CLI, Python, Node). Prints "127.0.0.1:<port>" on stdout once serving,
// then serves until stdin closes, SIGTERM/SIGINT, or --max_seconds pass.
//
//   live_gateway --max_seconds 120   # stdin held open by the caller
//
// Loopback only. Default credential: private token "live-gateway-token".
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "service/server/gateway_server.h"
#include "tests/client/demo_gitlab.h"
#include "tests/support/fake_gitlab.h"

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
  // The clients call without identity (until they gain TLS and bearer).
  config.upstream.allow_anonymous_default_token = true;
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
