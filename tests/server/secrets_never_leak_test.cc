// The gateway's one promise about secrets: a representative run of calls
// (Execute, BatchExecute, Paginate, GitLab errors, transport errors, invalid
// input, per-request credentials of every kind, the default token, GraphQL)
// made with distinctive secrets (bearer secrets of the callers file, right
// and wrong, a named credential, Download and Upload included) leaves none
// of them in stderr (the process
// log and the access log), the /metrics text, or any error message or
// error detail a caller receives.
//
// The secrets are data: add a row to Secrets() for each new kind (bearer
// secrets of the callers file, named credentials) and use it in a call.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/access_log_reader.h"
#include "tests/server/gateway_harness.h"
#include "tests/support/sha256_hex.h"

namespace gitlab_gateway::testing {
namespace {

struct Secret {
  std::string what;
  std::string value;
};

// Every secret the run below hands the gateway. Distinctive, so that any
// appearance is a leak.
const std::vector<Secret>& Secrets() {
  static const auto* secrets = new std::vector<Secret>{
      {"default token", "glpat-LEAKCHECK-default-7f3a9c21"},
      {"private token", "glpat-LEAKCHECK-private-1b2c3d4e"},
      {"oauth token", "LEAKCHECK-oauth-9e8d7c6b5a"},
      {"job token", "LEAKCHECK-job-4a5b6c7d8e"},
      {"malformed private token", "LEAKCHECK-malformed-0a1b2c"},
      {"query value", "LEAKCHECK-query-value-5566"},
      {"request header value", "LEAKCHECK-header-value-7788"},
      {"refused Authorization header", "LEAKCHECK-authorization-3344"},
      {"request body", "LEAKCHECK-body-9911"},
      {"caller bearer", "LEAKCHECK-bearer-caller-2468"},
      {"wrong bearer", "LEAKCHECK-bearer-wrong-1357"},
      {"named credential", "glpat-LEAKCHECK-named-8642"},
      {"upload body", "LEAKCHECK-upload-body-5151"},
  };
  return *secrets;
}

const std::string& SecretOf(absl::string_view what) {
  for (const Secret& s : Secrets()) {
    if (s.what == what) return s.value;
  }
  ADD_FAILURE() << "no secret " << what;
  std::abort();
}

// Redirects this process's stderr (fd 2) into a file while alive.
class StderrCapture {
 public:
  StderrCapture()
      : path_(
            absl::StrCat(::testing::TempDir(), "/secrets_stderr_", getpid())) {
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  ~StderrCapture() { Restore(); }

  // Restores stderr and returns what was written meanwhile.
  std::string Restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      dup2(saved_, STDERR_FILENO);
      close(saved_);
      saved_ = -1;
    }
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    std::remove(path_.c_str());
    return s.str();
  }

 private:
  std::string path_;
  int saved_ = -1;
};

// Everything callers were told about errors: messages and details.
struct Seen {
  std::vector<std::string> texts;
  int errors = 0;

  void Add(const grpc::Status& status) {
    if (status.ok()) return;
    ++errors;
    texts.push_back(status.error_message());
    texts.push_back(status.error_details());
  }
  void Add(const v1::Response& response) {
    if (response.has_error()) {
      ++errors;
      texts.push_back(response.error().SerializeAsString());
      texts.push_back(response.error().message());
    }
  }
};

v1::Request WithToken(v1::Request request, absl::string_view kind) {
  v1::Credentials* c = request.mutable_credentials();
  if (kind == "private") c->set_private_token(SecretOf("private token"));
  if (kind == "oauth") c->set_oauth_token(SecretOf("oauth token"));
  if (kind == "job") c->set_job_token(SecretOf("job token"));
  return request;
}

// The calls of the run; every error the caller sees goes into `seen`.
void RunCalls(GatewayHarness& h, Seen& seen) {
  h.fake.SetHandler([](const RecordedRequest& r) {
    if (absl::StrContains(r.path, "unauthorized")) {
      return Reply::Json(401, R"({"message":"401 Unauthorized"})");
    }
    if (absl::StrContains(r.path, "missing")) {
      return Reply::Json(404, R"({"message":"404 Project Not Found"})");
    }
    if (absl::StrContains(r.path, "broken")) {
      return Reply::Json(500, R"({"message":"500 Internal Server Error"})");
    }
    if (absl::StrContains(r.path, "reset"))
      return Reply::Do(Reply::Action::kReset);
    if (r.target == "/api/graphql") {
      return Reply::Json(200, R"({"errors":[{"message":"no such field"}]})");
    }
    const bool first = !absl::StrContains(r.query, "page=2");
    return Reply::Json(200, R"([{"id":1}])")
        .WithHeader("X-Request-Id", "gl-answer-id")
        .WithHeader("x-page", first ? "1" : "2")
        .WithHeader("x-per-page", "1")
        .WithHeader("x-next-page", first ? "2" : "");
  });
  auto execute = [&](const v1::Request& request) {
    v1::Response response;
    seen.Add(h.Execute(request, &response));
  };

  // Execute: the default token, each kind of per-request token, GitLab's
  // errors, a transport error, GraphQL errors.
  v1::Request with_query = Get("/projects");
  v1::Param* p = with_query.add_query();
  p->set_key("search");
  p->set_value(SecretOf("query value"));
  v1::Header* header = with_query.add_headers();
  header->set_name("X-Custom");
  header->set_value(SecretOf("request header value"));
  execute(with_query);
  execute(WithToken(with_query, "private"));
  execute(WithToken(Get("/user"), "oauth"));
  execute(WithToken(Get("/job"), "job"));
  execute(WithToken(Get("/projects/unauthorized"), "private"));
  execute(Get("/projects/missing"));
  execute(WithToken(Get("/projects/broken"), "oauth"));
  execute(WithToken(Get("/projects/reset"), "private"));
  v1::Request post = WithToken(Get("/projects/1/issues"), "private");
  post.set_method("POST");
  post.set_text(absl::StrCat(R"({"title":")", SecretOf("request body"), "\"}"));
  execute(post);
  v1::Request graphql = WithToken(v1::Request(), "job");
  graphql.set_api(v1::API_GRAPHQL);
  graphql.set_text(R"({"query":"{ nope }"})");
  execute(graphql);

  // Invalid input that carries secrets: refused without quoting them.
  v1::Request bad_token = Get("/projects");
  bad_token.mutable_credentials()->set_private_token(
      absl::StrCat(SecretOf("malformed private token"), "\n"));
  execute(bad_token);
  v1::Request auth_header = Get("/projects");
  header = auth_header.add_headers();
  header->set_name("Authorization");
  header->set_value(
      absl::StrCat("Bearer ", SecretOf("refused Authorization header")));
  execute(auth_header);
  v1::Request nul_query = WithToken(Get("/projects"), "private");
  p = nul_query.add_query();
  p->set_key("q");
  p->set_value(absl::StrCat(SecretOf("query value"), std::string(1, '\0')));
  execute(nul_query);
  execute(WithToken(Get("/projects/../admin"), "oauth"));

  // BatchExecute: a mix of the above as items.
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto stream = h.stub->BatchExecute(&context);
    for (const v1::Request& item :
         {with_query, WithToken(Get("/projects/missing"), "private"), bad_token,
          auth_header, WithToken(Get("/user"), "job"), post}) {
      EXPECT_TRUE(stream->Write(item));
    }
    stream->WritesDone();
    v1::Response response;
    while (stream->Read(&response)) seen.Add(response);
    seen.Add(stream->Finish());
  }

  // Paginate: two pages with a per-request token, a failing page, a
  // refused PaginateRequest carrying a token.
  auto paginate = [&](const v1::PaginateRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto reader = h.stub->Paginate(&context, request);
    v1::Response page;
    while (reader->Read(&page)) {
    }
    seen.Add(reader->Finish());
  };
  v1::PaginateRequest list;
  *list.mutable_request() = WithToken(with_query, "private");
  paginate(list);
  *list.mutable_request() = WithToken(Get("/projects/unauthorized"), "oauth");
  paginate(list);
  list.set_max_pages(-1);
  paginate(list);

  // A caller with a bearer secret spending a named credential (OK, then
  // GitLab's 401), and a wrong bearer (refused by the gateway).
  auto execute_as = [&](absl::string_view bearer, const v1::Request& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.AddMetadata("authorization", absl::StrCat("Bearer ", bearer));
    v1::Response response;
    seen.Add(h.stub->Execute(&context, request, &response));
    seen.Add(response);
  };
  v1::Request named = Get("/user");
  named.set_credential_name("leak-named");
  execute_as(SecretOf("caller bearer"), named);
  named.set_path("/projects/unauthorized");
  execute_as(SecretOf("caller bearer"), named);
  execute_as(SecretOf("wrong bearer"), Get("/user"));

  // Download (OK and GitLab's 404) and Upload with per-request tokens.
  auto download = [&](const v1::Request& request) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto reader = h.stub->Download(&context, request);
    v1::DownloadChunk chunk;
    while (reader->Read(&chunk)) {
    }
    seen.Add(reader->Finish());
  };
  download(WithToken(Get("/projects/1/repository/files/a/raw"), "private"));
  download(WithToken(Get("/projects/missing/repository/archive"), "oauth"));
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.AddMetadata("authorization",
                        absl::StrCat("Bearer ", SecretOf("caller bearer")));
    v1::Response response;
    auto writer = h.stub->Upload(&context, &response);
    v1::UploadChunk first;
    *first.mutable_request() =
        WithToken(Get("/projects/unauthorized/uploads"), "job");
    first.mutable_request()->set_method("POST");
    first.set_size(static_cast<int64_t>(SecretOf("upload body").size()));
    writer->Write(first);
    v1::UploadChunk data;
    data.set_data(SecretOf("upload body"));
    writer->Write(data);
    writer->WritesDone();
    seen.Add(writer->Finish());
  }
}

TEST(SecretsNeverLeakTest, NotInStderrAccessLogMetricsOrErrors) {
  Seen seen;
  std::string metrics;
  StderrCapture capture;
  {
    const std::string dir = ::testing::TempDir();
    const std::string callers =
        absl::StrCat(dir, "/secrets_callers_", getpid());
    const std::string policy = absl::StrCat(dir, "/secrets_policy_", getpid());
    std::ofstream(callers) << "leak-app " << Sha256Hex(SecretOf("caller bearer"))
                           << "\n";
    std::ofstream(policy) << R"({"callers": [{"name": "leak-app",
        "credentials": ["default", "leak-named"]}]})";
    GatewayHarness h([&](server::GatewayConfig& config) {
      config.callers_file = callers;
      config.policy_file = policy;
      auto named = std::make_shared<gitlab::NamedCredentials>();
      named->emplace("leak-named",
                     gitlab::Credential{gitlab::TokenKind::kPrivate,
                                        SecretOf("named credential")});
      config.upstream.named_credentials = named;
      config.access_log = "stderr";
      config.metrics_address = "127.0.0.1:0";
      config.upstream.default_credential = gitlab::Credential{
          gitlab::TokenKind::kPrivate, SecretOf("default token")};
    });
    RunCalls(h, seen);
    h.server->access_log()->Flush();
    metrics = h.ScrapeMetrics();
    // The fake did receive the tokens: the run really spent them.
    bool spent = false;
    bool named_spent = false;
    for (const RecordedRequest& r : h.fake.requests()) {
      spent |= r.Header("PRIVATE-TOKEN") == SecretOf("default token");
      named_spent |= r.Header("PRIVATE-TOKEN") == SecretOf("named credential");
    }
    EXPECT_TRUE(spent);
    EXPECT_TRUE(named_spent);
    std::remove(callers.c_str());
    std::remove(policy.c_str());
  }  // the gateway's shutdown lines are captured too
  const std::string stderr_text = capture.Restore();

  // The capture works and saw the run: access lines of every RPC, errors.
  EXPECT_THAT(stderr_text, ::testing::HasSubstr("\"rpc\":\"Execute\""));
  EXPECT_THAT(stderr_text, ::testing::HasSubstr("\"rpc\":\"BatchExecute\""));
  EXPECT_THAT(stderr_text, ::testing::HasSubstr("\"rpc\":\"Paginate\""));
  EXPECT_THAT(stderr_text, ::testing::HasSubstr("\"rpc\":\"Download\""));
  EXPECT_THAT(stderr_text, ::testing::HasSubstr("\"rpc\":\"Upload\""));
  EXPECT_THAT(stderr_text, ::testing::HasSubstr("\"caller\":\"leak-app\""));
  EXPECT_THAT(stderr_text, ::testing::HasSubstr("CALLER_UNAUTHENTICATED"));
  EXPECT_THAT(stderr_text,
              ::testing::HasSubstr("\"reason\":\"INVALID_CREDENTIALS\""));
  EXPECT_THAT(stderr_text, ::testing::HasSubstr("\"credential\":\"caller\""));
  EXPECT_THAT(metrics, ::testing::HasSubstr("gitlab_gateway_calls_total"));
  EXPECT_GE(seen.errors, 18);  // the error cases above

  for (const Secret& secret : Secrets()) {
    SCOPED_TRACE(secret.what);
    EXPECT_FALSE(absl::StrContains(stderr_text, secret.value))
        << "stderr / access log";
    EXPECT_FALSE(absl::StrContains(metrics, secret.value)) << "metrics";
    for (const std::string& text : seen.texts) {
      EXPECT_FALSE(absl::StrContains(text, secret.value))
          << "error seen by the caller: " << absl::CHexEscape(text);
    }
  }
}

}  // namespace
}  // namespace gitlab_gateway::testing
