// What reaches GitLab through Execute, and what comes back: auth headers,
// Sudo, path and query encoding, bodies both ways, parsed page/rate headers.
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;
using ::testing::Pair;

TEST(ExecuteRequestTest, DefaultCredentialIsSentAsPrivateToken) {
  GatewayHarness h;
  v1::Response response;
  v1::Request request = Get("/user");
  request.set_id("call-1");
  ASSERT_TRUE(h.Execute(request, &response).ok());
  EXPECT_EQ(response.id(), "call-1");
  EXPECT_EQ(response.status_code(), 200);
  EXPECT_EQ(response.text(), R"({"ok":true})");
  EXPECT_EQ(response.attempts(), 1);
  ASSERT_EQ(h.fake.request_count(), 1u);
  RecordedRequest seen = h.fake.requests()[0];
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/api/v4/user");
  EXPECT_THAT(seen.Header("PRIVATE-TOKEN"), Optional(std::string(kDefaultToken)));
  EXPECT_EQ(seen.Header("Authorization"), std::nullopt);
  EXPECT_EQ(seen.Header("JOB-TOKEN"), std::nullopt);
}

TEST(ExecuteRequestTest, EachCallerTokenKindUsesItsHeader) {
  GatewayHarness h;
  struct Row {
    std::function<void(v1::Credentials*)> set;
    const char* header;
    const char* value;
  } rows[] = {
      {[](v1::Credentials* c) { c->set_private_token("pat-1"); },
       "PRIVATE-TOKEN", "pat-1"},
      {[](v1::Credentials* c) { c->set_oauth_token("oauth-1"); },
       "Authorization", "Bearer oauth-1"},
      {[](v1::Credentials* c) { c->set_job_token("job-1"); }, "JOB-TOKEN",
       "job-1"},
  };
  for (const Row& row : rows) {
    h.fake.ClearRecords();
    v1::Request request = Get("/projects");
    row.set(request.mutable_credentials());
    v1::Response response;
    ASSERT_TRUE(h.Execute(request, &response).ok()) << row.header;
    ASSERT_EQ(h.fake.request_count(), 1u);
    RecordedRequest seen = h.fake.requests()[0];
    EXPECT_THAT(seen.Header(row.header), Optional(std::string(row.value)));
    // The caller's token replaces the default one; never both.
    int auth_headers = 0;
    for (const auto& [name, value] : seen.headers) {
      if (absl::EqualsIgnoreCase(name, "PRIVATE-TOKEN") ||
          absl::EqualsIgnoreCase(name, "Authorization") ||
          absl::EqualsIgnoreCase(name, "JOB-TOKEN")) {
        ++auth_headers;
      }
    }
    EXPECT_EQ(auth_headers, 1) << row.header;
  }
}

TEST(ExecuteRequestTest, SudoAndCallerHeadersAreForwarded) {
  GatewayHarness h;
  v1::Request request = Get("/user");
  request.set_sudo("alice");
  auto* header = request.add_headers();
  header->set_name("If-None-Match");
  header->set_value("W/\"abc\"");
  v1::Response response;
  ASSERT_TRUE(h.Execute(request, &response).ok());
  RecordedRequest seen = h.fake.requests().at(0);
  EXPECT_THAT(seen.Header("Sudo"), Optional(std::string("alice")));
  EXPECT_THAT(seen.Header("If-None-Match"), Optional(std::string("W/\"abc\"")));
}

TEST(ExecuteRequestTest, PathEscapesKeptAndQueryEncodedInOrderWithRepeats) {
  GatewayHarness h;
  v1::Request request = Get("/projects/group%2Fdemo/issues");
  for (auto [key, value] :
       {std::pair{"labels[]", "bug"}, std::pair{"labels[]", "p1 high"},
        std::pair{"search", "a+b&c=d"}, std::pair{"labels[]", "ü"}}) {
    auto* param = request.add_query();
    param->set_key(key);
    param->set_value(value);
  }
  v1::Response response;
  ASSERT_TRUE(h.Execute(request, &response).ok());
  RecordedRequest seen = h.fake.requests().at(0);
  EXPECT_EQ(seen.path, "/api/v4/projects/group%2Fdemo/issues");
  EXPECT_EQ(seen.query,
            "labels%5B%5D=bug&labels%5B%5D=p1%20high&search=a%2Bb%26c%3Dd&"
            "labels%5B%5D=%C3%BC");
}

TEST(ExecuteRequestTest, TextBodyIsJsonUnlessContentTypeGiven) {
  GatewayHarness h;
  v1::Request request = Get("/projects");
  request.set_method("post");
  request.set_text(R"({"name":"demo"})");
  v1::Response response;
  ASSERT_TRUE(h.Execute(request, &response).ok());
  RecordedRequest seen = h.fake.requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.body, R"({"name":"demo"})");
  EXPECT_THAT(seen.Header("Content-Type"),
              Optional(std::string("application/json")));

  h.fake.ClearRecords();
  auto* header = request.add_headers();
  header->set_name("Content-Type");
  header->set_value("application/x-www-form-urlencoded");
  request.set_text("name=demo");
  request.set_method("PUT");
  ASSERT_TRUE(h.Execute(request, &response).ok());
  seen = h.fake.requests().at(0);
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.body, "name=demo");
  EXPECT_THAT(seen.Header("Content-Type"),
              Optional(std::string("application/x-www-form-urlencoded")));
}

TEST(ExecuteRequestTest, BinaryBodiesTravelBothWaysUnchanged) {
  GatewayHarness h;
  const std::string binary("\x89PNG\r\n\x1a\n\0\xff\xfe", 11);
  h.fake.SetHandler([&](const RecordedRequest&) {
    return Reply{200, {{"Content-Type", "application/octet-stream"}}, binary};
  });
  v1::Request request = Get("/projects/1/uploads");
  request.set_method("POST");
  request.set_content(binary);
  v1::Response response;
  ASSERT_TRUE(h.Execute(request, &response).ok());
  RecordedRequest seen = h.fake.requests().at(0);
  EXPECT_EQ(seen.body, binary);
  EXPECT_THAT(seen.Header("Content-Type"),
              Optional(std::string("application/octet-stream")));
  EXPECT_EQ(response.body_case(), v1::Response::kContent);
  EXPECT_EQ(response.content(), binary);
}

TEST(ExecuteRequestTest, MethodsWithoutBodiesAndHead) {
  GatewayHarness h;
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, R"({"id":1})");
  });
  for (const char* method : {"DELETE", "HEAD", "PATCH", "GET"}) {
    h.fake.ClearRecords();
    v1::Request request = Get("/projects/1");
    request.set_method(method);
    v1::Response response;
    ASSERT_TRUE(h.Execute(request, &response).ok()) << method;
    EXPECT_EQ(h.fake.requests().at(0).method, method);
    if (std::string(method) == "HEAD") {
      EXPECT_EQ(response.body_case(), v1::Response::BODY_NOT_SET);
    } else {
      EXPECT_EQ(response.text(), R"({"id":1})") << method;
    }
  }
}

TEST(ExecuteRequestTest, HeadersKeptWithDuplicatesAndPageAndRateLimitParsed) {
  GatewayHarness h;
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, "[]")
        .WithHeader("x-page", "2")
        .WithHeader("x-per-page", "20")
        .WithHeader("x-next-page", "3")
        .WithHeader("x-prev-page", "1")
        .WithHeader("x-total", "57")
        .WithHeader("x-total-pages", "3")
        .WithHeader("Link",
                    "<https://gitlab.example/api/v4/projects?page=3>; "
                    "rel=\"next\", <https://gitlab.example/api/v4/"
                    "projects?page=1>; rel=\"first\"")
        .WithHeader("RateLimit-Limit", "2000")
        .WithHeader("RateLimit-Remaining", "1990")
        .WithHeader("RateLimit-Reset", "1700000000")
        .WithHeader("Set-Cookie", "a=1")
        .WithHeader("Set-Cookie", "b=2");
  });
  v1::Response response;
  ASSERT_TRUE(h.Execute(Get("/projects"), &response).ok());
  EXPECT_EQ(response.page().page(), 2);
  EXPECT_EQ(response.page().next_page(), 3);
  EXPECT_EQ(response.page().prev_page(), 1);
  EXPECT_EQ(response.page().per_page(), 20);
  EXPECT_EQ(response.page().total(), 57);
  EXPECT_EQ(response.page().total_pages(), 3);
  EXPECT_EQ(response.page().next_link(),
            "https://gitlab.example/api/v4/projects?page=3");
  EXPECT_EQ(response.rate_limit().limit(), 2000);
  EXPECT_EQ(response.rate_limit().remaining(), 1990);
  EXPECT_EQ(response.rate_limit().reset().seconds(), 1700000000);
  std::vector<std::string> cookies;
  for (const auto& header : response.headers()) {
    if (header.name() == "Set-Cookie") cookies.push_back(header.value());
  }
  EXPECT_THAT(cookies, ElementsAre("a=1", "b=2"));
  EXPECT_GT(response.upstream_latency().nanos() +
                response.upstream_latency().seconds(),
            0);
}

TEST(ExecuteRequestTest, NotModifiedIsSuccess) {
  GatewayHarness h;
  h.fake.Enqueue(Reply{304, {{"ETag", "W/\"1\""}}, ""});
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects/1"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status_code(), 304);
}

TEST(ExecuteRequestTest, ConnectionsAreReused) {
  GatewayHarness h;
  v1::Response response;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(h.Execute(Get("/version"), &response).ok());
  }
  std::vector<RecordedRequest> seen = h.fake.requests();
  ASSERT_EQ(seen.size(), 5u);
  for (const RecordedRequest& r : seen) {
    EXPECT_EQ(r.connection_id, seen[0].connection_id);
  }
  EXPECT_EQ(h.fake.connections_accepted(), 1);
}

}  // namespace
}  // namespace gitlab_gateway::testing
