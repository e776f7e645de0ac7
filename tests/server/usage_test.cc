// The binary's own words to a newcomer: --help, --version, and the startup
// errors and log lines about /metrics. Runs the real gitlab-gateway.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/server/config_from_flags.h"
#include "tests/client/subprocess.h"

namespace gitlab_gateway {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

testing::ProcessResult Gateway(std::vector<std::string> args) {
  args.insert(args.begin(), GG_GATEWAY_BINARY);
  return testing::RunProcess(args, {}, "", absl::Seconds(30));
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(UsageTest, HelpListsTheGatewayFlagsByTopic) {
  testing::ProcessResult r = Gateway({"--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("No flags matched")));
  // The banner names the program once.
  EXPECT_THAT(r.out, StartsWith("gitlab-gateway: a gRPC gateway"));
  EXPECT_EQ(Count(r.out, "gitlab-gateway:"), 1u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--flagfile=FILE"));
  // Topics, in order, each with its flags.
  size_t serving = r.out.find("\nServing:\n  --listen=");
  size_t gitlab = r.out.find("\nGitLab:\n  --gitlab_url=");
  size_t retries = r.out.find("\nRetries:\n  --retry_max_attempts=");
  ASSERT_NE(serving, std::string::npos) << r.out;
  ASSERT_NE(gitlab, std::string::npos) << r.out;
  ASSERT_NE(retries, std::string::npos) << r.out;
  EXPECT_LT(serving, gitlab);
  EXPECT_LT(gitlab, retries);
  // Every gateway flag exactly once, with the variable it reads.
  for (const auto& [flag, env] : server::FlagEnvironment()) {
    EXPECT_EQ(Count(r.out, absl::StrCat("\n  --", flag, "=")), 1u) << flag;
  }
  EXPECT_THAT(r.out, HasSubstr("[env GITLAB_GATEWAY_LISTEN]"));
  // Not the libraries' flags: those are --helpfull's.
  EXPECT_THAT(r.out, Not(HasSubstr("--fromenv")));
  testing::ProcessResult full = Gateway({"--helpfull"});
  EXPECT_THAT(full.out, HasSubstr("--fromenv"));
}

TEST(UsageTest, VersionPrintsVersionAndCommit) {
  testing::ProcessResult r = Gateway({"--version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(
      r.out, ContainsRegex("^gitlab-gateway [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit "
                           "([0-9a-f]{12}(-dirty)?|unknown)\\)\n$"));
  EXPECT_THAT(r.out, Not(HasSubstr("Debug build")));
}

// --flagfile is the documented config file: one --flag=value per line,
// "#" comments, values checked like flags.
TEST(UsageTest, FlagfileIsTheConfigFile) {
  std::string path = ::testing::TempDir() + "/gateway.flags";
  {
    std::ofstream file(path);
    file << "# gitlab-gateway config\n--listen=127.0.0.1:0\n"
            "--metrics_listen=off\n--max_queue=-1\n";
  }
  testing::ProcessResult r = Gateway({absl::StrCat("--flagfile=", path)});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--max_queue: must be at least 0, got -1"));
}

TEST(UsageTest, BusyMetricsPortIsNamed) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string busy = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));

  testing::ProcessResult r = Gateway(
      {"--listen=127.0.0.1:0", absl::StrCat("--metrics_listen=", busy)});
  close(fd);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("metrics_listen: cannot listen on ",
                                            busy, " (port in use")));
}

}  // namespace
}  // namespace gitlab_gateway
