#include "service/gitlab/status_details.h"

#include <string>
#include <utility>
#include <vector>

#include "gitlab/gateway/v1/gateway.pb.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::gitlab_gateway::testing::Details;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr absl::string_view kHost = "gitlab.example.com";

UpstreamAnswer Answer(int code, absl::string_view body,
                      const Headers& headers = {}) {
  UpstreamAnswer answer;
  answer.status_code = code;
  answer.headers = headers;
  answer.body = body;
  answer.content_type = "application/json";
  answer.path = "/projects/1";
  answer.now = absl::FromUnixSeconds(1700000000);
  return answer;
}

TEST(EllipsizeTest, Rows) {
  const struct {
    std::string in;
    size_t max;
    std::string out;
  } rows[] = {
      {"short", 10, "short"},
      {"exactly10!", 10, "exactly10!"},
      {"eleven char", 10, "eleven ..."},
      {"caf\xC3\xA9 au lait", 6, "caf..."},
      {"ab\xC3\xA9xyz", 6, "ab..."},  // no split character before "..."
      {"abc", 2, "ab"},
      {"bad \xFF", 10, "bad \xEF\xBF\xBD"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(Ellipsize(row.in, row.max), row.out) << row.in;
  }
}

TEST(MakeRetryInfoTest, SplitsSecondsAndNanos) {
  const auto retry = MakeRetryInfo(absl::Milliseconds(2500));
  EXPECT_EQ(retry.retry_delay().seconds(), 2);
  EXPECT_EQ(retry.retry_delay().nanos(), 500000000);
}

TEST(MakeBadRequestTest, BoundsTheViolations) {
  ErrorBody body;
  for (int i = 0; i < 100; ++i) {
    body.field_violations.emplace_back("f" + std::to_string(i),
                                       std::string(100, 'x'));
  }
  const auto bad = MakeBadRequest(body, "unused");
  EXPECT_GT(bad.field_violations_size(), 1);
  EXPECT_LT(bad.field_violations_size(), 100);
  EXPECT_EQ(bad.field_violations(0).field(), "f0");
}

TEST(MakeBadRequestTest, KeepsOneHugeViolation) {
  ErrorBody body;
  body.field_violations.emplace_back("name", std::string(5000, 'x'));
  const auto bad = MakeBadRequest(body, "unused");
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "name");
  EXPECT_LE(bad.field_violations(0).description().size(), 512u);
}

TEST(MakeResourceInfoTest, TypeIsTheFirstSegment) {
  const struct {
    const char* path;
    const char* type;
    const char* name;
  } rows[] = {
      {"/projects/g%2Fp/issues/1", "projects", "/projects/g%2Fp/issues/1"},
      {"/groups?search=x", "groups", "/groups"},
      {"/user", "user", "/user"},
      {"", "", ""},
      {"/", "", "/"},
  };
  for (const auto& row : rows) {
    const auto info = MakeResourceInfo(row.path, "gone");
    EXPECT_EQ(info.resource_type(), row.type) << row.path;
    EXPECT_EQ(info.resource_name(), row.name) << row.path;
    EXPECT_EQ(info.description(), "gone");
  }
}

// What the error trailers cost on the wire: grpc-message percent-encoded,
// grpc-status-details-bin base64-encoded.
size_t TrailerBytes(const grpc::Status& status) {
  size_t n = 0;
  for (unsigned char c : status.error_message()) {
    n += (c < 0x20 || c > 0x7e || c == '%') ? 3 : 1;
  }
  return n + (status.error_details().size() + 2) / 3 * 4;
}

TEST(TrailerBudgetTest, SmallBodyAndHeadersAreKeptWhole) {
  const std::string body =
      R"({"message": "500 boom", "trace": ")" + std::string(3000, 'b') + "\"}";
  Headers headers;
  for (int i = 0; i < 20; ++i) {
    headers.emplace_back("X-Header-" + std::to_string(i), std::string(40, 'v'));
  }
  const auto errors = Details<v1::GitLabError>(
      MapGitLabAnswer(kHost, Answer(500, body, headers)));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].body(), body);
  EXPECT_EQ(errors[0].headers_size(), 20);
}

TEST(TrailerBudgetTest, LargeBodyIsCutToTheTrailerBudget) {
  const struct {
    const char* name;
    std::string body;
    size_t at_least;  // bytes of body kept
  } rows[] = {
      // The message is short: the body gets most of the budget.
      {"json",
       R"({"message": "500 boom", "trace": ")" + std::string(100 * 1024, 'x') +
           "\"}",
       4500},
      // The body is also the message (in the status, ErrorInfo and
      // GitLabError), which leaves less room for the body itself.
      {"plain text", std::string(100 * 1024, 'x'), 2500},
  };
  for (const auto& row : rows) {
    const grpc::Status status = MapGitLabAnswer(kHost, Answer(500, row.body));
    EXPECT_LE(TrailerBytes(status), kMaxErrorTrailerBytes) << row.name;
    const auto errors = Details<v1::GitLabError>(status);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_GT(errors[0].body().size(), row.at_least) << row.name;
    EXPECT_LT(errors[0].body().size(), kMaxErrorTrailerBytes) << row.name;
    EXPECT_EQ(errors[0].body(), row.body.substr(0, errors[0].body().size()))
        << row.name;
  }
}

TEST(TrailerBudgetTest, OverflowingHeadersAreDroppedFromTheEnd) {
  Headers headers;
  for (int i = 0; i < 50; ++i) {
    headers.emplace_back("X-Header-" + std::to_string(i),
                         std::string(500, 'v'));
  }
  const grpc::Status status =
      MapGitLabAnswer(kHost, Answer(502, "<html>oops</html>", headers));
  EXPECT_LE(TrailerBytes(status), kMaxErrorTrailerBytes);
  const auto errors = Details<v1::GitLabError>(status);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_GT(errors[0].headers_size(), 0);
  EXPECT_LT(errors[0].headers_size(), 50);
  EXPECT_EQ(errors[0].headers(0).name(), "X-Header-0");
}

TEST(TrailerBudgetTest, WorstCaseStaysWithinTheBudget) {
  std::string violations;
  for (int i = 0; i < 40; ++i) {
    violations += (i ? "," : "") + std::string("\"field") + std::to_string(i) +
                  "\": [\"" + std::string(300, 'e') + "\"]";
  }
  std::string accents;
  for (int i = 0; i < 2000; ++i) accents += "\xC3\xA9";
  const std::string bodies[] = {
      R"({"message": {)" + violations + "}}",
      R"({"message": ")" + accents + R"("})",
      std::string(1 << 20, '%'),
  };
  Headers headers;
  for (int i = 0; i < 30; ++i) {
    headers.emplace_back("X-" + std::to_string(i), std::string(1000, 'h'));
  }
  headers.emplace_back("Location", std::string(5000, 'l'));
  const std::string path = "/projects/" + std::string(10000, 'p');
  for (int code : {301, 400, 404, 422, 429, 500}) {
    for (const std::string& body : bodies) {
      UpstreamAnswer answer = Answer(code, body, headers);
      answer.path = path;
      const grpc::Status status = MapGitLabAnswer(kHost, answer);
      EXPECT_LE(TrailerBytes(status), kMaxErrorTrailerBytes) << code;
      EXPECT_LE(status.error_message().size(), 600u) << code;
      EXPECT_EQ(Details<google::rpc::ErrorInfo>(status).size(), 1u) << code;
      EXPECT_EQ(Details<v1::GitLabError>(status).size(), 1u) << code;
    }
  }
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
