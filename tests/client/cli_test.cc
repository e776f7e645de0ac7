// gitlab-gateway-cli as a process, against a real gateway in front of the
// demo GitLab: what it sends, what it prints, and its exit status.
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/demo_gitlab.h"
#include "tests/client/subprocess.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  CliTest() {
    ScriptDemoGitLab(harness_.fake);
    target_ = absl::StrCat("127.0.0.1:", harness_.server->port());
  }

  // Runs the CLI with --target set unless `with_target` is false; the
  // GITLAB_GATEWAY_* variables of the test's own environment are cleared.
  ProcessResult Cli(std::vector<std::string> args, std::string input = "",
                    std::vector<std::pair<std::string, std::string>> env = {},
                    bool with_target = true) {
    std::vector<std::string> argv = {GG_CLI_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    if (with_target) {
      argv.push_back("--target");
      argv.push_back(target_);
    }
    std::vector<std::pair<std::string, std::string>> all = {
        {"GITLAB_GATEWAY_TARGET", ""},
        {"GITLAB_GATEWAY_CA_FILE", ""},
        {"GITLAB_GATEWAY_CERT_FILE", ""},
        {"GITLAB_GATEWAY_KEY_FILE", ""},
        {"GITLAB_GATEWAY_PRIVATE_TOKEN", ""},
        {"GITLAB_GATEWAY_OAUTH_TOKEN", ""},
        {"GITLAB_GATEWAY_JOB_TOKEN", ""}};
    for (auto& e : env) all.push_back(std::move(e));
    ProcessResult r = RunProcess(argv, all, input, absl::Seconds(30));
    EXPECT_FALSE(r.timed_out) << "CLI timed out: " << r.err;
    return r;
  }

  RecordedRequest LastRequest() {
    std::vector<RecordedRequest> all = harness_.fake.requests();
    EXPECT_FALSE(all.empty());
    return all.empty() ? RecordedRequest() : all.back();
  }

  GatewayHarness harness_;
  std::string target_;
};

TEST_F(CliTest, GetPrintsPrettyJson) {
  ProcessResult r = Cli({"get", "/projects/42"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\n  \"id\": 42,\n  \"name\": \"demo\",\n"
            "  \"path_with_namespace\": \"group/demo\"\n}\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, RawPrintsTheBodyAsReceived) {
  ProcessResult r = Cli({"get", "/projects/42", "--raw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            R"({"id":42,"name":"demo","path_with_namespace":"group/demo"})"
            "\n");
}

TEST_F(CliTest, SendsQueryHeadersSudoAndCallerToken) {
  ProcessResult r = Cli({"get", "/echo", "-q", "per_page=5", "-q", "search=a b",
                         "--header", "X-Demo: hello", "--sudo", "alice",
                         "--private-token", "glpat-caller"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RecordedRequest sent = LastRequest();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.path, "/api/v4/echo");
  EXPECT_THAT(sent.query, StartsWith("per_page=5&search=a"));
  EXPECT_EQ(sent.Header("X-Demo"), "hello");
  EXPECT_EQ(sent.Header("Sudo"), "alice");
  EXPECT_EQ(sent.Header("PRIVATE-TOKEN"), "glpat-caller");
  EXPECT_THAT(r.out, HasSubstr("\"x_demo\": \"hello\""));
}

TEST_F(CliTest, TokenAndTargetFromEnvironment) {
  ProcessResult r = Cli({"get", "/echo"}, "",
                        {{"GITLAB_GATEWAY_TARGET", target_},
                         {"GITLAB_GATEWAY_OAUTH_TOKEN", "oauth-from-env"}},
                        /*with_target=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastRequest().Header("Authorization"), "Bearer oauth-from-env");
  r = Cli({"get", "/echo", "--job-token", "job-flag"}, "",
          {{"GITLAB_GATEWAY_OAUTH_TOKEN", "ignored"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastRequest().Header("JOB-TOKEN"), "job-flag");
  EXPECT_EQ(LastRequest().Header("Authorization"), std::nullopt);
}

TEST_F(CliTest, PostDataFromFileAndInline) {
  std::string file = ::testing::TempDir() + "/cli_test_body.json";
  std::ofstream(file) << R"({"name":"from-file"})";
  ProcessResult r = Cli({"post", "/projects", "--data", "@" + file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastRequest().method, "POST");
  EXPECT_EQ(LastRequest().body, R"({"name":"from-file"})");
  EXPECT_THAT(r.out, HasSubstr("\"created\": true"));

  r = Cli({"put", "/echo", "-d", R"({"k":"v"})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastRequest().method, "PUT");
  EXPECT_EQ(LastRequest().body, R"({"k":"v"})");
  EXPECT_EQ(LastRequest().Header("Content-Type"), "application/json");

  r = Cli({"patch", "/echo", "-d", "@-"}, R"({"stdin":1})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastRequest().method, "PATCH");
  EXPECT_EQ(LastRequest().body, R"({"stdin":1})");

  r = Cli({"delete", "/echo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastRequest().method, "DELETE");
}

TEST_F(CliTest, IncludeAndHeadPrintStatusAndHeaders) {
  ProcessResult r = Cli({"get", "/projects/42", "-i"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("HTTP 200\n"));
  EXPECT_THAT(r.out, HasSubstr("Content-Type: application/json"));
  EXPECT_THAT(r.out, HasSubstr("\n\n{\n  \"id\": 42"));

  r = Cli({"head", "/projects/42"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastRequest().method, "HEAD");
  EXPECT_THAT(r.out, StartsWith("HTTP 200\n"));
}

TEST_F(CliTest, ErrorsExitNonZeroWithTheDecodedErrorOnStderr) {
  ProcessResult r = Cli({"get", "/projects/7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("error: NOT_FOUND: GitLab 404"));
  EXPECT_THAT(r.err, HasSubstr("reason: GITLAB_NOT_FOUND (127.0.0.1)"));
  EXPECT_THAT(r.err, HasSubstr("http status: 404"));
  EXPECT_THAT(r.err, HasSubstr("resource: projects"));

  r = Cli({"post", "/projects", "-d", R"({"description":"x"})"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("field name: can't be blank"));
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  ProcessResult r = Cli({"get"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("path: get needs an API path"));
  r = Cli({"get", "/x", "--timeout", "soon"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(harness_.fake.request_count(), 0u);
}

TEST_F(CliTest, UnreachableGatewayIsAFailureNotAHang) {
  ProcessResult r = Cli(
      {"get", "/projects/42", "--target", "127.0.0.1:1", "--deadline", "3s"},
      "", {}, /*with_target=*/false);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: UNAVAILABLE"));
}

TEST_F(CliTest, BatchNdjsonInAndOut) {
  std::string input =
      R"({"id":"a","path":"/projects/42"})"
      "\n\n"
      R"({"id":"b","path":"/projects/7"})"
      "\n"
      R"({"id":"c","method":"POST","path":"/projects","text":"{\"name\":\"n\"}"})"
      "\n";
  ProcessResult r = Cli({"batch", "--private-token", "batch-token"}, input);
  EXPECT_EQ(r.exit_code, 1) << "one item failed: " << r.err;
  EXPECT_THAT(r.err, HasSubstr("batch: 1 of 3 items failed"));
  EXPECT_THAT(r.err, Not(HasSubstr("\r")));  // no progress: stderr is a pipe
  std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.out;
  std::map<std::string, v1::Response> by_id;
  for (const std::string& line : lines) {
    v1::Response response;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(line, &response).ok())
        << line;
    by_id[response.id()] = response;
  }
  EXPECT_EQ(by_id["a"].status_code(), 200);
  EXPECT_EQ(by_id["c"].status_code(), 201);
  EXPECT_EQ(by_id["b"].error().code(), 5);
  EXPECT_THAT(lines[0], Not(HasSubstr("\n")));
  for (const RecordedRequest& sent : harness_.fake.requests()) {
    EXPECT_EQ(sent.Header("PRIVATE-TOKEN"), "batch-token");
  }
}

TEST_F(CliTest, BatchAllOkExitsZeroAndBadLineExitsTwo) {
  ProcessResult r = Cli({"batch"}, R"({"path":"/projects/42"})"
                                   "\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("statusCode":200)"));

  r = Cli({"batch"}, R"({"id":"ok","path":"/projects/42"})"
                     "\n{not json}\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("error: stdin line 2:"));
}

// Progress needs a terminal on stderr; main decides that with isatty(2), so
// here the command runs in-process with progress on.
TEST_F(CliTest, BatchDrawsProgressWhenStderrIsATerminal) {
  std::istringstream in(R"({"path":"/projects/42"})"
                        "\n"
                        R"({"path":"/projects/7"})"
                        "\n");
  std::ostringstream out, err;
  int code = cli::Run(
      {"batch", "--target", target_},
      [](const char*) -> const char* { return nullptr; },
      cli::Io{in, out, err, /*progress=*/true});
  EXPECT_EQ(code, cli::kExitFailed);
  EXPECT_THAT(err.str(), HasSubstr("\rbatch: 2 sent, 2 received, 1 failed\n"));
  std::string printed = out.str();
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 2);
}

TEST_F(CliTest, JsonOutputIsTheWholeResponse) {
  ProcessResult r = Cli({"get", "/projects/42", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  v1::Response response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(r.out, &response).ok());
  EXPECT_EQ(response.status_code(), 200);
  EXPECT_EQ(response.attempts(), 1);
}

TEST_F(CliTest, PaginateStreamsPages) {
  ProcessResult r =
      Cli({"paginate", "/projects/42/issues", "--max-pages", "10", "--raw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "[{\"iid\":1},{\"iid\":2}]\n[{\"iid\":3},{\"iid\":4}]\n"
            "[{\"iid\":5},{\"iid\":6}]\n");
}

TEST_F(CliTest, PaginateMaxPagesAndErrors) {
  ProcessResult r =
      Cli({"paginate", "/projects/42/issues", "--max-pages", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "[\n  {\n    \"iid\": 1\n  },\n  {\n    \"iid\": 2\n  }\n]\n");
  r = Cli({"paginate", "/projects/7/issues"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("reason: GITLAB_NOT_FOUND"));
}

TEST_F(CliTest, PaginateItemsPrintsOneJsonLinePerItem) {
  ProcessResult r = Cli({"paginate", "/projects/42/issues", "--items"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"iid\":1}\n{\"iid\":2}\n{\"iid\":3}\n{\"iid\":4}\n"
            "{\"iid\":5}\n{\"iid\":6}\n");
  r = Cli({"paginate", "--project", "group/demo", "issues", "--items",
           "--max-pages", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"iid\":1}\n{\"iid\":2}\n");
}

TEST_F(CliTest, UnencodedProjectPathGetsAHint) {
  ProcessResult r = Cli({"get", "/projects/group/demo"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("reason: GITLAB_NOT_FOUND"));
  EXPECT_THAT(r.err, HasSubstr("hint: GitLab names a project by its id or by "
                               "its full path with each \"/\" as %2F: "
                               "/projects/group%2Fdemo (or: --project "
                               "group/demo)"));
  r = Cli({"get", "/projects/group/sub/issues"});
  EXPECT_THAT(r.err, HasSubstr("/projects/group%2Fsub/issues (or: --project "
                               "group/sub)"));
  // An id, or an encoded path, needs no hint.
  r = Cli({"get", "/projects/7"});
  EXPECT_THAT(r.err, Not(HasSubstr("hint:")));
  // --project encodes it: the demo GitLab knows group%2Fdemo.
  r = Cli({"get", "--project", "group/demo", "--raw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"path_with_namespace\":\"group/demo\""));
  EXPECT_EQ(LastRequest().path, "/api/v4/projects/group%2Fdemo");
}

TEST_F(CliTest, GetRefusesMaxPages) {
  ProcessResult r = Cli({"get", "/projects/42", "--max-pages", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--max-pages: only paginate takes it"));
  EXPECT_EQ(harness_.fake.request_count(), 0u);
}

TEST_F(CliTest, HealthPrintsServing) {
  ProcessResult r = Cli({"health"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
}

TEST_F(CliTest, HelpGoesToStdout) {
  ProcessResult r = Cli({"help"}, "", {}, /*with_target=*/false);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out,
              HasSubstr("gitlab-gateway-cli get|post|put|patch|delete|head"));
}

}  // namespace
}  // namespace gitlab_gateway::testing
