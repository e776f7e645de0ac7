// ParseArgs and BuildRequest: flags, env fallbacks, and the errors that name
// the flag at fault.
#include "client/cli/cli_args.h"

#include <map>

#include "client/cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::cli {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class CliArgsTest : public ::testing::Test {
 protected:
  absl::StatusOr<CliArgs> Parse(std::vector<std::string> args) {
    return ParseArgs(
        args,
        [this](const char* name) -> const char* {
          auto it = env_.find(name);
          return it == env_.end() ? nullptr : it->second.c_str();
        },
        [this](const std::string& name) -> absl::StatusOr<std::string> {
          auto it = files_.find(name);
          if (it == files_.end()) return absl::NotFoundError("no " + name);
          return it->second;
        });
  }

  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> files_;
};

TEST_F(CliArgsTest, GetWithQueryHeadersAndFlags) {
  absl::StatusOr<CliArgs> args =
      Parse({"get", "/projects", "-q", "per_page=5", "--query=search=a=b",
             "-qorder_by", "-H", "X-Demo:  yes ", "--sudo", "alice",
             "--timeout", "7s", "-i", "--target", "gw:1"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->command, "get");
  EXPECT_EQ(args->path, "/projects");
  EXPECT_THAT(args->query,
              ElementsAre(Pair("per_page", "5"), Pair("search", "a=b"),
                          Pair("order_by", "")));
  EXPECT_THAT(args->headers, ElementsAre(Pair("X-Demo", "yes")));
  EXPECT_EQ(args->sudo, "alice");
  EXPECT_EQ(args->timeout, absl::Seconds(7));
  EXPECT_TRUE(args->include);
  EXPECT_EQ(args->target, "gw:1");
}

TEST_F(CliArgsTest, DataInlineFromFileAndPlainSecondsTimeout) {
  files_["body.json"] = R"({"name":"x"})";
  absl::StatusOr<CliArgs> args =
      Parse({"POST", "/projects", "--data", "@body.json", "--timeout", "3"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->command, "post");
  EXPECT_EQ(args->data, R"({"name":"x"})");
  EXPECT_EQ(args->timeout, absl::Seconds(3));
  args = Parse({"put", "/p", "-d", "{}"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->data, "{}");
}

TEST_F(CliArgsTest, EnvSuppliesTargetAndTokenFlagsWin) {
  env_["GITLAB_GATEWAY_TARGET"] = "env-host:9";
  env_["GITLAB_GATEWAY_JOB_TOKEN"] = "job-secret";
  absl::StatusOr<CliArgs> args = Parse({"get", "/user"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->target, "env-host:9");
  EXPECT_EQ(args->credentials.job_token(), "job-secret");

  args = Parse({"get", "/user", "--oauth-token", "flag-secret"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->credentials.oauth_token(), "flag-secret");
  EXPECT_FALSE(args->credentials.has_job_token());
}

TEST_F(CliArgsTest, DefaultTargetIsLocalhost) {
  absl::StatusOr<CliArgs> args = Parse({"health"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->target, "localhost:50051");
}

TEST_F(CliArgsTest, PaginateAndBatchFlags) {
  absl::StatusOr<CliArgs> args =
      Parse({"paginate", "/projects/42/issues", "--max-pages", "10",
             "--max-items=100"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->max_pages, 10);
  EXPECT_EQ(args->max_items, 100);
  args = Parse({"batch", "--private-token", "t", "--deadline", "2m"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->credentials.private_token(), "t");
  EXPECT_EQ(args->deadline, absl::Minutes(2));
}

TEST_F(CliArgsTest, ErrorsNameTheFlag) {
  auto message = [this](std::vector<std::string> args) {
    absl::StatusOr<CliArgs> parsed = Parse(std::move(args));
    EXPECT_FALSE(parsed.ok());
    return std::string(parsed.status().message());
  };
  EXPECT_THAT(message({"get"}), HasSubstr("path: get needs an API path"));
  EXPECT_THAT(message({"fetch", "/x"}), HasSubstr("unknown command \"fetch\""));
  EXPECT_THAT(message({}), HasSubstr("command: missing"));
  EXPECT_THAT(message({"get", "/x", "--timeout", "soon"}),
              HasSubstr("--timeout: \"soon\" is not a duration"));
  EXPECT_THAT(message({"get", "/x", "--timeout", "-1s"}),
              HasSubstr("--timeout: must be positive"));
  EXPECT_THAT(message({"get", "/x", "-H", "NoColon"}),
              HasSubstr("-H: \"NoColon\" is not \"Name: value\""));
  EXPECT_THAT(message({"get", "/x", "-q", "=v"}), HasSubstr("has no key"));
  EXPECT_THAT(message({"get", "/x", "--sudo"}),
              HasSubstr("--sudo: needs a value"));
  EXPECT_THAT(message({"get", "/x", "--bogus"}),
              HasSubstr("--bogus: unknown flag"));
  EXPECT_THAT(
      message({"get", "/x", "--private-token", "a", "--job-token", "b"}),
      HasSubstr("give only one of"));
  EXPECT_THAT(message({"get", "/x", "-d", "@missing.json"}),
              HasSubstr("-d: no missing.json"));
  EXPECT_THAT(message({"get", "/x", "extra"}),
              HasSubstr("unexpected \"extra\""));
  EXPECT_THAT(message({"paginate", "/x", "--max-pages", "-3"}),
              HasSubstr("--max-pages: \"-3\" is not a count"));
  env_["GITLAB_GATEWAY_PRIVATE_TOKEN"] = "a";
  env_["GITLAB_GATEWAY_OAUTH_TOKEN"] = "b";
  EXPECT_THAT(message({"get", "/x"}), HasSubstr("set only one of"));
}

TEST_F(CliArgsTest, PaginateOnlyFlagsAreRefusedElsewhere) {
  // They used to be accepted by get and silently ignored.
  for (const char* flag : {"--max-pages=3", "--max-items=5", "--items"}) {
    absl::StatusOr<CliArgs> args = Parse({"get", "/projects/42", flag});
    ASSERT_FALSE(args.ok()) << flag;
    EXPECT_THAT(args.status().message(),
                HasSubstr("only paginate takes it, not get"));
  }
  absl::StatusOr<CliArgs> args =
      Parse({"paginate", "/projects/42/issues", "--items"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->items);
  EXPECT_THAT(Parse({"paginate", "/x", "--items", "--json"}).status().message(),
              HasSubstr("--items: cannot be combined"));
}

TEST_F(CliArgsTest, ProjectFlagEncodesThePath) {
  absl::StatusOr<CliArgs> args =
      Parse({"get", "--project", "group/sub/my demo"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->path, "/projects/group%2Fsub%2Fmy%20demo");
  args = Parse({"paginate", "--project=group/demo", "issues"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->path, "/projects/group%2Fdemo/issues");
  args = Parse({"get", "--project", "42", "/repository/tree"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->path, "/projects/42/repository/tree");
  EXPECT_THAT(Parse({"batch", "--project", "g/p"}).status().message(),
              HasSubstr("--project: batch takes no path"));
  EXPECT_THAT(Parse({"get", "--project", ""}).status().message(),
              HasSubstr("--project: is empty"));
}

TEST_F(CliArgsTest, HelpFlagAndCommand) {
  EXPECT_EQ(Parse({"--help"})->command, "help");
  EXPECT_EQ(Parse({"help"})->command, "help");
  EXPECT_THAT(UsageText(), HasSubstr("gitlab-gateway-cli batch"));
}

TEST_F(CliArgsTest, BuildRequestMapsEveryFlag) {
  files_["bin"] = std::string("\xff\x00\x01", 3);
  absl::StatusOr<CliArgs> args =
      Parse({"patch", "/projects/1", "-q", "a=1", "-H", "X-Demo: 1", "-d",
             "{\"k\":1}", "--sudo", "bob", "--timeout", "1500ms",
             "--private-token", "tok"});
  ASSERT_TRUE(args.ok()) << args.status();
  v1::Request request = BuildRequest(*args);
  EXPECT_EQ(request.method(), "PATCH");
  EXPECT_EQ(request.path(), "/projects/1");
  ASSERT_EQ(request.query_size(), 1);
  EXPECT_EQ(request.query(0).key(), "a");
  ASSERT_EQ(request.headers_size(), 1);
  EXPECT_EQ(request.headers(0).value(), "1");
  EXPECT_EQ(request.text(), "{\"k\":1}");
  EXPECT_EQ(request.sudo(), "bob");
  EXPECT_EQ(request.timeout().seconds(), 1);
  EXPECT_EQ(request.timeout().nanos(), 500'000'000);
  EXPECT_EQ(request.credentials().private_token(), "tok");

  args = Parse({"post", "/upload", "-d", "@bin"});
  ASSERT_TRUE(args.ok());
  request = BuildRequest(*args);
  EXPECT_EQ(request.body_case(), v1::Request::kContent) << "not UTF-8: bytes";
  EXPECT_EQ(request.content(), std::string("\xff\x00\x01", 3));

  args = Parse({"paginate", "/issues"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(BuildRequest(*args).method(), "GET");
}

TEST_F(CliArgsTest, TlsFlagsAndTheCallerToken) {
  files_["/run/token"] = "s3cret-token\n";
  absl::StatusOr<CliArgs> args =
      Parse({"get", "/projects/42", "--ca-file", "/ca.pem", "--cert=/c.pem",
             "--key", "/c.key", "--caller-token-file", "/run/token"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->tls);
  EXPECT_EQ(args->ca_file, "/ca.pem");
  EXPECT_EQ(args->cert_file, "/c.pem");
  EXPECT_EQ(args->key_file, "/c.key");
  EXPECT_EQ(args->caller_token, "s3cret-token");

  args = Parse({"health", "--tls"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->tls);
  EXPECT_EQ(args->ca_file, "");

  args = Parse({"get", "/projects/42"});
  ASSERT_TRUE(args.ok());
  EXPECT_FALSE(args->tls);
  EXPECT_EQ(args->caller_token, "");
}

TEST_F(CliArgsTest, TheCallerTokenFromTheEnvironmentYieldsToTheFlag) {
  env_["GITLAB_GATEWAY_CALLER_TOKEN"] = "from-env";
  absl::StatusOr<CliArgs> args = Parse({"get", "/projects/42"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->caller_token, "from-env");
  files_["/run/token"] = "from-file";
  args = Parse({"get", "/projects/42", "--caller-token-file", "/run/token"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->caller_token, "from-file");
}

TEST_F(CliArgsTest, TlsFilesFromTheEnvironmentYieldToTheFlags) {
  env_["GITLAB_GATEWAY_CA_FILE"] = "/env/ca.pem";
  env_["GITLAB_GATEWAY_CERT_FILE"] = "/env/c.pem";
  env_["GITLAB_GATEWAY_KEY_FILE"] = "/env/c.key";
  absl::StatusOr<CliArgs> args = Parse({"get", "/projects/42"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->tls);
  EXPECT_EQ(args->ca_file, "/env/ca.pem");
  EXPECT_EQ(args->cert_file, "/env/c.pem");
  EXPECT_EQ(args->key_file, "/env/c.key");

  // A pair comes from one place: the flags' cert and key, not a mix.
  args = Parse({"get", "/projects/42", "--ca-file", "/ca.pem", "--cert",
                "/c.pem", "--key", "/c.key"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->ca_file, "/ca.pem");
  EXPECT_EQ(args->cert_file, "/c.pem");
  EXPECT_EQ(args->key_file, "/c.key");
  args = Parse({"get", "/projects/42", "--cert", "/c.pem"});
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().message(), "--key: --cert and --key go together");

  env_.erase("GITLAB_GATEWAY_KEY_FILE");
  args = Parse({"get", "/projects/42"});
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().message(),
            "GITLAB_GATEWAY_KEY_FILE: GITLAB_GATEWAY_CERT_FILE and "
            "GITLAB_GATEWAY_KEY_FILE go together");

  // The CA alone turns TLS on.
  env_.erase("GITLAB_GATEWAY_CERT_FILE");
  args = Parse({"health"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->tls);
  EXPECT_EQ(args->cert_file, "");
}

TEST_F(CliArgsTest, BadSecurityFlagsNameTheFlagAndNeverTheSecret) {
  files_["/run/empty"] = " \n";
  struct Row {
    std::vector<std::string> args;
    std::string error;
  };
  const Row rows[] = {
      {{"get", "/p", "--cert", "/c.pem"},
       "--key: --cert and --key go together"},
      {{"get", "/p", "--key", "/c.key"},
       "--cert: --cert and --key go together"},
      {{"get", "/p", "--caller-token-file", "/missing"},
       "--caller-token-file: no /missing"},
      {{"get", "/p", "--caller-token-file", "/run/empty"},
       "--caller-token-file: /run/empty is empty"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.error);
    absl::StatusOr<CliArgs> args = Parse(row.args);
    ASSERT_FALSE(args.ok());
    EXPECT_EQ(args.status().message(), row.error);
  }
}

}  // namespace
}  // namespace gitlab_gateway::cli
