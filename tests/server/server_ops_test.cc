// Operating the gateway: /metrics content, grpc.health.v1, and the real
// binary's SIGTERM drain.
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server/config_from_flags.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ServerOpsTest, MetricsDescribeUpstreamCallsWithBoundedLabels) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.metrics_address = "127.0.0.1:0";
  });
  h.fake.Enqueue(Reply::Json(200, "[]"));
  h.fake.Enqueue(Reply::Json(404, R"({"message":"404 Not Found"})"));
  h.fake.Enqueue(Reply::Text(429, "Retry later"));
  v1::Response response;
  EXPECT_TRUE(h.Execute(Get("/projects/group%2Fdemo/issues"), &response).ok());
  EXPECT_FALSE(h.Execute(Get("/projects/7/issues/12"), &response).ok());
  EXPECT_FALSE(h.Execute(Get("/projects"), &response).ok());
  // Refused input reaches no upstream metric but counts as an RPC.
  EXPECT_FALSE(h.Execute(Get("relative"), &response).ok());

  std::string text = h.ScrapeMetrics();
  EXPECT_THAT(
      text,
      HasSubstr("gitlab_gateway_upstream_request_duration_seconds_bucket{"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(code="200",method="GET",route="/projects/:id/issues")"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(code="404",method="GET",route="/projects/:id/issues/:issue_iid")"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(gitlab_gateway_upstream_rate_limited_total{route="/projects"} 1)"));
  EXPECT_THAT(text, HasSubstr("gitlab_gateway_upstream_in_flight"));
  EXPECT_THAT(text, HasSubstr("gitlab_gateway_upstream_queue_depth"));
  EXPECT_THAT(text,
              HasSubstr(R"(grpc_code="NOT_FOUND",grpc_method="Execute")"));
  EXPECT_THAT(
      text, HasSubstr(R"(grpc_code="INVALID_ARGUMENT",grpc_method="Execute")"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_bucket{"));
  // Caller-chosen ids never become label values, nor does the token.
  EXPECT_THAT(text, Not(HasSubstr("group%2Fdemo")));
  EXPECT_THAT(text, Not(HasSubstr(kDefaultToken)));
}

TEST(ServerOpsTest, HealthIsServingWhileUp) {
  GatewayHarness h;
  auto health = grpc::health::v1::Health::NewStub(h.channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  grpc::ClientContext named;
  named.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  request.set_service("gitlab.gateway.v1.Gateway");
  ASSERT_TRUE(health->Check(&named, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// Starts the real binary; returns its pid and the gRPC port it logged.
pid_t StartGateway(const std::string& gitlab_url, int* port,
                   const char* extra_flag = "--shutdown_grace=5s") {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    std::string url_flag = "--gitlab_url=" + gitlab_url;
    execl(GG_GATEWAY_BINARY, GG_GATEWAY_BINARY, "--listen=127.0.0.1:0",
          "--metrics_listen=", url_flag.c_str(), "--shutdown_grace=5s",
          extra_flag, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* log = fdopen(fds[0], "r");
  char line[512];
  *port = 0;
  while (*port == 0 && std::fgets(line, sizeof(line), log) != nullptr) {
    absl::string_view text(line);
    size_t at = text.find("serving gRPC on port ");
    if (at == absl::string_view::npos) continue;
    text.remove_prefix(at + 21);
    (void)absl::SimpleAtoi(text.substr(0, text.find(',')), port);
  }
  // Keep draining the child's log so it never blocks on a full pipe.
  std::thread([log] {
    char rest[512];
    while (std::fgets(rest, sizeof(rest), log) != nullptr) {
    }
    std::fclose(log);
  }).detach();
  return pid;
}

// Runs `command` with stderr joined to stdout; returns the wait status and
// leaves the output in `text`.
int RunShell(const std::string& command, std::string* text) {
  FILE* out = popen(absl::StrCat(command, " 2>&1").c_str(), "r");
  if (out == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return -1;
  }
  char buf[256];
  while (std::fgets(buf, sizeof(buf), out) != nullptr) *text += buf;
  return pclose(out);
}

TEST(ServerOpsTest, MalformedEnvironmentIsRefusedByName) {
  for (const char* setting : {"GITLAB_GATEWAY_MAX_IN_FLIGHT=lots",
                              "GITLAB_GATEWAY_DEFAULT_TIMEOUT=soon",
                              "GITLAB_GATEWAY_RATE_LIMIT_BURST=many",
                              "GITLAB_GATEWAY_RATE_LIMIT_PER_HOUR=hourly"}) {
    std::string text;
    int status = RunShell(
        absl::StrCat("timeout 10 env ", setting, " ", GG_GATEWAY_BINARY,
                     " --listen=127.0.0.1:0 --metrics_listen="),
        &text);
    SCOPED_TRACE(setting);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 2);
    std::string name(setting, std::string(setting).find('='));
    EXPECT_THAT(text, HasSubstr(absl::StrCat("env ", name, ": must be")));
  }
}

// Out-of-range values stop the binary too (they used to be clamped), naming
// the flag and, when the value came from there, its variable.
TEST(ServerOpsTest, OutOfRangeValuesAreRefusedByName) {
  struct Row {
    const char* env;
    const char* flag;
    const char* want;
  };
  const Row rows[] = {
      {"GITLAB_GATEWAY_MAX_QUEUE=-1", "",
       "--max_queue (env GITLAB_GATEWAY_MAX_QUEUE): must be at least 0, got "
       "-1"},
      {"GITLAB_GATEWAY_MAX_QUEUE=5", "--max_queue=-1",
       "--max_queue: must be at least 0, got -1"},
      {"", "--paginate_prefetch=0",
       "--paginate_prefetch: must be at least 1, got 0"},
      {"GITLAB_GATEWAY_ACCESS_LOG=/nonexistent-dir/access.log", "",
       "--access_log (env GITLAB_GATEWAY_ACCESS_LOG): directory "
       "/nonexistent-dir does not exist or is not writable"},
      {"GITLAB_GATEWAY_RATE_LIMIT_PER_HOUR=30", "",
       "--rate_limit_per_hour (env GITLAB_GATEWAY_RATE_LIMIT_PER_HOUR): must "
       "be 0 (no hourly limit) or a finite number of at least 60, got 30"},
  };
  for (const Row& row : rows) {
    std::string text;
    int status = RunShell(
        absl::StrCat("timeout 10 env ", row.env, " ", GG_GATEWAY_BINARY,
                     " --listen=127.0.0.1:0 --metrics_listen= ", row.flag),
        &text);
    SCOPED_TRACE(absl::StrCat(row.env, " ", row.flag));
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 2);
    EXPECT_THAT(text, HasSubstr(absl::StrCat("ERROR ", row.want, "\n")));
  }
}

// The variables error messages name (FlagEnvironment) are the ones each
// flag's help names.
TEST(ServerOpsTest, EveryFlagNamesTheVariableErrorsName) {
  std::string text;
  RunShell(absl::StrCat("timeout 10 ", GG_GATEWAY_BINARY, " --helpfull"),
           &text);
  // absl wraps help lines; compare with single spaces.
  std::string help = absl::StrJoin(
      absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty()), " ");
  for (const auto& [flag, env] : server::FlagEnvironment()) {
    size_t at = help.find(absl::StrCat("--", flag, " ("));
    ASSERT_NE(at, std::string::npos) << flag;
    size_t end = help.find("; default:", at);
    EXPECT_THAT(help.substr(at, end - at),
                HasSubstr(absl::StrCat("[env ", env, "])")));
  }
}

// Fractional rates come through the environment, and "off" turns /metrics
// off there (an empty variable means "unset").
TEST(ServerOpsTest, EnvironmentTakesFractionsAndTurnsMetricsOff) {
  std::string text;
  int status =
      RunShell(absl::StrCat("timeout --preserve-status -s TERM 4 env "
                            "GITLAB_GATEWAY_RATE_LIMIT_PER_MINUTE=0.5 "
                            "GITLAB_GATEWAY_RETRY_BUDGET_RATIO=0.1 "
                            "GITLAB_GATEWAY_METRICS_LISTEN=off ",
                            GG_GATEWAY_BINARY, " --listen=127.0.0.1:0"),
               &text);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_THAT(text, HasSubstr(", metrics off,"));
  EXPECT_THAT(text, HasSubstr("stopped"));
}

TEST(ServerOpsTest, SigtermDrainsInFlightCallsAndExitsZero) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest& r) {
    if (r.path != "/api/v4/projects") return Reply::Json(200, "{}");
    return Reply::Json(200, R"({"drained":true})")
        .WithDelay(absl::Milliseconds(800));
  });
  int port = 0;
  pid_t pid = StartGateway(fake.base_url(), &port);
  ASSERT_GT(port, 0);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Gateway::NewStub(channel);

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::Request request = Get("/projects");
  v1::Response response;
  grpc::Status status;
  absl::Notification done;
  stub->async()->Execute(&context, &request, &response, [&](grpc::Status s) {
    status = s;
    done.Notify();
  });
  // If an assertion below returns early: the child must not outlive the test
  // (ctest would wait for it) and the async call must end before its locals.
  absl::Cleanup on_exit = [&] {
    if (waitpid(pid, nullptr, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    context.TryCancel();
    done.WaitForNotification();
  };
  ASSERT_TRUE(fake.WaitForRequests(1, absl::Seconds(5)));
  ASSERT_EQ(kill(pid, SIGTERM), 0);

  // While draining, new calls are refused (and not sent upstream).
  grpc::Status refused;
  for (int i = 0; i < 100 && refused.ok(); ++i) {
    grpc::ClientContext late;
    late.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    v1::Response ignored;
    refused = stub->Execute(&late, Get("/version"), &ignored);
    if (refused.ok()) absl::SleepFor(absl::Milliseconds(5));
  }
  // gRPC refuses calls arriving during Shutdown (CANCELLED on 1.51, or
  // UNAVAILABLE once the listener is gone); either way they are not served.
  EXPECT_THAT(refused.error_code(),
              ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE,
                               grpc::StatusCode::CANCELLED));

  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.text(), R"({"drained":true})");

  int wstatus = 0;
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  pid_t reaped = 0;
  while (reaped == 0 && absl::Now() < give_up) {
    reaped = waitpid(pid, &wstatus, WNOHANG);
    if (reaped == 0) absl::SleepFor(absl::Milliseconds(20));
  }
  if (reaped == 0) kill(pid, SIGKILL);
  ASSERT_EQ(reaped, pid) << "gateway did not exit after SIGTERM";
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

// The name and scheduling policy of each of the process's threads.
std::vector<std::pair<std::string, int>> ThreadPolicies(pid_t pid) {
  std::vector<std::pair<std::string, int>> policies;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return policies;
  while (dirent* entry = readdir(dir)) {
    int tid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &tid)) continue;
    std::ifstream comm(absl::StrCat(tasks, "/", tid, "/comm"));
    std::string name;
    std::getline(comm, name);
    policies.emplace_back(name, sched_getscheduler(tid));
  }
  closedir(dir);
  return policies;
}

void StopGateway(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// --sched_batch (default on): every thread, gRPC's included, runs under
// SCHED_BATCH but the engine's, which runs under SCHED_OTHER;
// --sched_batch=false leaves them all with the policy they were started under
// (this test's own, SCHED_OTHER normally).
TEST(ServerOpsTest, EveryThreadRunsUnderTheChosenSchedulingPolicy) {
  FakeGitLab fake;
  const int inherited = sched_getscheduler(0);
  for (bool batch : {true, false}) {
    SCOPED_TRACE(batch ? "default" : "--sched_batch=false");
    int port = 0;
    pid_t pid =
        StartGateway(fake.base_url(), &port,
                     batch ? "--sched_batch=true" : "--sched_batch=false");
    absl::Cleanup stop = [pid] { StopGateway(pid); };
    ASSERT_GT(port, 0);
    std::vector<std::pair<std::string, int>> policies = ThreadPolicies(pid);
    // main, the engine, gRPC's pollers and executor, the access log.
    ASSERT_GE(policies.size(), 5u);
    int engines = 0;
    for (const auto& [name, policy] : policies) {
      SCOPED_TRACE(name);
      if (name == "gg-engine") {
        ++engines;
        EXPECT_EQ(policy, batch ? SCHED_OTHER : inherited);
      } else {
        EXPECT_EQ(policy, batch ? SCHED_BATCH : inherited);
      }
    }
    EXPECT_EQ(engines, 1);
  }
}

}  // namespace
}  // namespace gitlab_gateway::testing
