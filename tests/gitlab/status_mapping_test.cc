#include "service/gitlab/status_mapping.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "gitlab/gateway/v1/gateway.pb.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::gitlab_gateway::testing::Details;
using ::testing::ElementsAre;
using ::testing::Pair;
using Headers = std::vector<std::pair<std::string, std::string>>;
using Code = grpc::StatusCode;

constexpr absl::string_view kHost = "gitlab.example.com";

UpstreamAnswer Answer(int code, absl::string_view body,
                      const Headers& headers = {}) {
  UpstreamAnswer answer;
  answer.status_code = code;
  answer.headers = headers;
  answer.body = body;
  answer.content_type = "application/json";
  answer.path = "/projects/group%2Fdemo/issues/7";
  answer.now = absl::FromUnixSeconds(1700000000);
  answer.attempts = 2;
  return answer;
}

TEST(IsSuccessTest, Rows) {
  const std::pair<int, bool> rows[] = {
      {200, true},  {201, true},  {204, true},  {299, true},  {304, true},
      {100, false}, {199, false}, {300, false}, {301, false}, {302, false},
      {400, false}, {404, false}, {500, false}, {0, false},   {-1, false}};
  for (const auto& [code, success] : rows) {
    EXPECT_EQ(IsSuccess(code), success) << code;
  }
}

TEST(MapGitLabAnswerTest, SuccessIsOk) {
  EXPECT_TRUE(MapGitLabAnswer(kHost, Answer(200, "{}")).ok());
  EXPECT_TRUE(MapGitLabAnswer(kHost, Answer(304, "")).ok());
}

TEST(MapGitLabAnswerTest, TableRows) {
  const struct {
    int http;
    Code code;
    const char* reason;
  } rows[] = {
      {400, Code::INVALID_ARGUMENT, "GITLAB_BAD_REQUEST"},
      {401, Code::UNAUTHENTICATED, "GITLAB_UNAUTHENTICATED"},
      {403, Code::PERMISSION_DENIED, "GITLAB_PERMISSION_DENIED"},
      {404, Code::NOT_FOUND, "GITLAB_NOT_FOUND"},
      {405, Code::UNIMPLEMENTED, "GITLAB_METHOD_NOT_ALLOWED"},
      {409, Code::ABORTED, "GITLAB_CONFLICT"},
      {412, Code::FAILED_PRECONDITION, "GITLAB_PRECONDITION_FAILED"},
      {413, Code::INVALID_ARGUMENT, "GITLAB_PAYLOAD_TOO_LARGE"},
      {414, Code::INVALID_ARGUMENT, "GITLAB_URI_TOO_LONG"},
      {422, Code::INVALID_ARGUMENT, "GITLAB_UNPROCESSABLE"},
      {429, Code::RESOURCE_EXHAUSTED, "GITLAB_RATE_LIMITED"},
      {499, Code::CANCELLED, "GITLAB_CLIENT_CLOSED_REQUEST"},
      {500, Code::INTERNAL, "GITLAB_INTERNAL_ERROR"},
      {501, Code::UNIMPLEMENTED, "GITLAB_NOT_IMPLEMENTED"},
      {502, Code::UNAVAILABLE, "GITLAB_BAD_GATEWAY"},
      {503, Code::UNAVAILABLE, "GITLAB_UNAVAILABLE"},
      {504, Code::DEADLINE_EXCEEDED, "GITLAB_GATEWAY_TIMEOUT"},
      {301, Code::FAILED_PRECONDITION, "GITLAB_REDIRECT"},
      {302, Code::FAILED_PRECONDITION, "GITLAB_REDIRECT"},
      {307, Code::FAILED_PRECONDITION, "GITLAB_REDIRECT"},
      {402, Code::FAILED_PRECONDITION, "GITLAB_CLIENT_ERROR"},
      {410, Code::FAILED_PRECONDITION, "GITLAB_CLIENT_ERROR"},
      {418, Code::FAILED_PRECONDITION, "GITLAB_CLIENT_ERROR"},
      {505, Code::UNAVAILABLE, "GITLAB_SERVER_ERROR"},
      {520, Code::UNAVAILABLE, "GITLAB_SERVER_ERROR"},
      {599, Code::UNAVAILABLE, "GITLAB_SERVER_ERROR"},
      {101, Code::UNKNOWN, "GITLAB_UNEXPECTED_STATUS"},
      {600, Code::UNKNOWN, "GITLAB_UNEXPECTED_STATUS"},
      {0, Code::UNKNOWN, "GITLAB_UNEXPECTED_STATUS"},
      {-7, Code::UNKNOWN, "GITLAB_UNEXPECTED_STATUS"},
  };
  const Headers headers = {{"Content-Type", "application/json"},
                           {"X-Request-Id", "01HABC"}};
  for (const auto& row : rows) {
    SCOPED_TRACE(row.http);
    const std::string body =
        R"({"message": ")" + std::to_string(row.http) + R"( Something"})";
    const grpc::Status status =
        MapGitLabAnswer(kHost, Answer(row.http, body, headers));
    EXPECT_EQ(status.error_code(), row.code);
    EXPECT_EQ(status.error_message(),
              "GitLab " + std::to_string(row.http) + ": Something");

    const auto infos = Details<google::rpc::ErrorInfo>(status);
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos[0].reason(), row.reason);
    EXPECT_EQ(infos[0].domain(), kHost);
    EXPECT_EQ(infos[0].metadata().at("httpStatus"), std::to_string(row.http));
    EXPECT_EQ(infos[0].metadata().at("gitlabMessage"),
              std::to_string(row.http) + " Something");
    EXPECT_EQ(infos[0].metadata().at("attempts"), "2");
    EXPECT_EQ(infos[0].metadata().count("gitlabError"), 0u);

    const auto errors = Details<v1::GitLabError>(status);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].status_code(), row.http);
    EXPECT_EQ(errors[0].message(), std::to_string(row.http) + " Something");
    EXPECT_EQ(errors[0].body(), body);
    ASSERT_EQ(errors[0].headers_size(), 2);
    EXPECT_EQ(errors[0].headers(1).name(), "X-Request-Id");
    EXPECT_EQ(errors[0].headers(1).value(), "01HABC");

    const bool bad_request = row.http == 400 || row.http == 422;
    EXPECT_EQ(Details<google::rpc::BadRequest>(status).size(),
              bad_request ? 1u : 0u);
    EXPECT_EQ(Details<google::rpc::ResourceInfo>(status).size(),
              row.http == 404 ? 1u : 0u);
    EXPECT_EQ(Details<google::rpc::RetryInfo>(status).size(), 0u);
  }
}

TEST(MapGitLabAnswerTest, EmptyBodyUsesThePhrase) {
  const grpc::Status status = MapGitLabAnswer(kHost, Answer(503, ""));
  EXPECT_EQ(status.error_message(), "GitLab 503: Service Unavailable");
  EXPECT_EQ(
      Details<google::rpc::ErrorInfo>(status)[0].metadata().at("gitlabMessage"),
      "");
}

TEST(MapGitLabAnswerTest, UnprocessableCarriesFieldViolations) {
  const grpc::Status status = MapGitLabAnswer(
      kHost, Answer(422, R"({"message": {"name": ["has already been taken"],
                                 "path": ["is too long"]}})"));
  EXPECT_EQ(status.error_message(),
            "GitLab 422: name has already been taken; path is too long");
  const auto bad = Details<google::rpc::BadRequest>(status);
  ASSERT_EQ(bad.size(), 1u);
  ASSERT_EQ(bad[0].field_violations_size(), 2);
  EXPECT_EQ(bad[0].field_violations(0).field(), "name");
  EXPECT_EQ(bad[0].field_violations(0).description(), "has already been taken");
  EXPECT_EQ(bad[0].field_violations(1).field(), "path");
  EXPECT_EQ(bad[0].field_violations(1).description(), "is too long");
}

TEST(MapGitLabAnswerTest, BadRequestWithoutMapNamesTheQuotedFieldOrRequest) {
  const struct {
    const char* body;
    const char* field;
    const char* description;
  } rows[] = {
      {R"({"message": "400 (Bad request) \"title\" not given"})", "title",
       R"((Bad request) "title" not given)"},
      {R"({"error": "title is missing"})", "request", "title is missing"},
      {"", "request", "Bad Request"},
  };
  for (const auto& row : rows) {
    const auto bad = Details<google::rpc::BadRequest>(
        MapGitLabAnswer(kHost, Answer(400, row.body)));
    ASSERT_EQ(bad.size(), 1u) << row.body;
    ASSERT_EQ(bad[0].field_violations_size(), 1) << row.body;
    EXPECT_EQ(bad[0].field_violations(0).field(), row.field) << row.body;
    EXPECT_EQ(bad[0].field_violations(0).description(), row.description)
        << row.body;
  }
}

TEST(MapGitLabAnswerTest, NotFoundCarriesResourceInfo) {
  UpstreamAnswer answer =
      Answer(404, R"({"message": "404 Project Not Found"})");
  answer.path = "/projects/group%2Fdemo/issues/7?state=opened";
  const auto info =
      Details<google::rpc::ResourceInfo>(MapGitLabAnswer(kHost, answer));
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].resource_type(), "projects");
  EXPECT_EQ(info[0].resource_name(), "/projects/group%2Fdemo/issues/7");
  EXPECT_EQ(info[0].description(), "Project Not Found");
}

TEST(MapGitLabAnswerTest, RateLimitedCarriesRetryInfo) {
  const struct {
    const char* name;
    Headers headers;
    int64_t seconds;  // -1: no RetryInfo
  } rows[] = {
      {"retry-after seconds", {{"Retry-After", "42"}}, 42},
      {"ratelimit-reset", {{"RateLimit-Reset", "1700000017"}}, 17},
      {"http date", {{"Retry-After", "Tue, 14 Nov 2023 22:13:25 GMT"}}, 5},
      {"none", {}, -1},
      {"garbage", {{"Retry-After", "later"}}, -1},
  };
  for (const auto& row : rows) {
    const grpc::Status status =
        MapGitLabAnswer(kHost, Answer(429, "Retry later", row.headers));
    EXPECT_EQ(status.error_code(), Code::RESOURCE_EXHAUSTED) << row.name;
    EXPECT_EQ(status.error_message(), "GitLab 429: Retry later") << row.name;
    const auto retry = Details<google::rpc::RetryInfo>(status);
    if (row.seconds < 0) {
      EXPECT_TRUE(retry.empty()) << row.name;
    } else {
      ASSERT_EQ(retry.size(), 1u) << row.name;
      EXPECT_EQ(retry[0].retry_delay().seconds(), row.seconds) << row.name;
      EXPECT_EQ(retry[0].retry_delay().nanos(), 0) << row.name;
    }
  }
}

TEST(MapGitLabAnswerTest, RedirectCarriesLocation) {
  const Headers headers = {
      {"location", " https://gitlab.example.com/api/v4/projects/new%2Fname "}};
  const grpc::Status status = MapGitLabAnswer(
      kHost, Answer(301, R"({"message": "301 Moved Permanently"})", headers));
  EXPECT_EQ(status.error_code(), Code::FAILED_PRECONDITION);
  const auto info = Details<google::rpc::ErrorInfo>(status);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].metadata().at("location"),
            "https://gitlab.example.com/api/v4/projects/new%2Fname");
}

TEST(MapGitLabAnswerTest, OAuthErrorNamesTheCode) {
  const grpc::Status status =
      MapGitLabAnswer(kHost, Answer(401, R"({"error": "invalid_token",
                             "error_description": "Token is expired."})"));
  EXPECT_EQ(status.error_code(), Code::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(),
            "GitLab 401: invalid_token: Token is expired.");
  const auto info = Details<google::rpc::ErrorInfo>(status);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].metadata().at("gitlabError"), "invalid_token");
}

TEST(MapGitLabAnswerTest, GitLabErrorIsValidUtf8) {
  const Headers headers = {{"X-Odd", "caf\xE9"}};
  const auto binary = Details<v1::GitLabError>(
      MapGitLabAnswer(kHost, Answer(502, "\xFF\xFE", headers)));
  ASSERT_EQ(binary.size(), 1u);
  EXPECT_EQ(binary[0].body(), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(binary[0].headers(0).value(), "caf\xEF\xBF\xBD");
  EXPECT_EQ(binary[0].message(), "non-JSON body (2 bytes)");
}

TEST(MapTransportErrorTest, ReasonByCode) {
  const struct {
    absl::Status status;
    Code code;
    const char* reason;
  } rows[] = {
      {absl::UnavailableError("connect: refused"), Code::UNAVAILABLE,
       "UPSTREAM_UNAVAILABLE"},
      {absl::DeadlineExceededError("timeout"), Code::DEADLINE_EXCEEDED,
       "UPSTREAM_TIMEOUT"},
      {absl::ResourceExhaustedError("queue full"), Code::RESOURCE_EXHAUSTED,
       "GATEWAY_OVERLOADED"},
      {absl::CancelledError("cancelled"), Code::CANCELLED, "CANCELLED"},
      {absl::InternalError("bug"), Code::INTERNAL, "INTERNAL_ERROR"},
      {absl::DataLossError("short body"), Code::DATA_LOSS, "INTERNAL_ERROR"},
      {absl::OkStatus(), Code::INTERNAL, "INTERNAL_ERROR"},
  };
  for (const auto& row : rows) {
    const grpc::Status status = MapTransportError(row.status, 3);
    EXPECT_EQ(status.error_code(), row.code) << row.status;
    if (!row.status.ok()) {
      EXPECT_EQ(status.error_message(), row.status.message());
    }
    const auto info = Details<google::rpc::ErrorInfo>(status);
    ASSERT_EQ(info.size(), 1u) << row.status;
    EXPECT_EQ(info[0].reason(), row.reason) << row.status;
    EXPECT_EQ(info[0].domain(), kGatewayDomain);
    EXPECT_EQ(info[0].metadata().at("attempts"), "3");
    EXPECT_TRUE(Details<v1::GitLabError>(status).empty());
  }
}

TEST(MapTransportErrorTest, PayloadReasonWins) {
  absl::Status failure = absl::UnavailableError("TLS handshake failed");
  failure.SetPayload(kReasonPayloadUrl, absl::Cord("UPSTREAM_TLS_ERROR"));
  const grpc::Status status = MapTransportError(failure, 1);
  EXPECT_EQ(status.error_code(), Code::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "TLS handshake failed");
  const auto info = Details<google::rpc::ErrorInfo>(status);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].reason(), "UPSTREAM_TLS_ERROR");
}

TEST(InvalidArgumentTest, CarriesViolationAndReason) {
  const grpc::Status status = InvalidArgument(
      {"path", "\"..\" segments are not allowed", "INVALID_PATH"});
  EXPECT_EQ(status.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "path: \"..\" segments are not allowed");
  const auto bad = Details<google::rpc::BadRequest>(status);
  ASSERT_EQ(bad.size(), 1u);
  ASSERT_EQ(bad[0].field_violations_size(), 1);
  EXPECT_EQ(bad[0].field_violations(0).field(), "path");
  EXPECT_EQ(bad[0].field_violations(0).description(),
            "\"..\" segments are not allowed");
  const auto info = Details<google::rpc::ErrorInfo>(status);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].reason(), "INVALID_PATH");
  EXPECT_EQ(info[0].domain(), kGatewayDomain);
}

TEST(GatewayErrorTest, CarriesReason) {
  const grpc::Status status = GatewayError(Code::RESOURCE_EXHAUSTED,
                                           "PAGE_LIMIT", "max_pages 3 reached");
  EXPECT_EQ(status.error_code(), Code::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "max_pages 3 reached");
  const auto info = Details<google::rpc::ErrorInfo>(status);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].reason(), "PAGE_LIMIT");
  EXPECT_EQ(info[0].domain(), kGatewayDomain);
  EXPECT_TRUE(GatewayError(Code::OK, "X", "y").ok());
}

TEST(ToRpcStatusTest, UsesDetailsOrCodeAndMessage) {
  const grpc::Status mapped =
      MapGitLabAnswer(kHost, Answer(404, R"({"message": "404 Not Found"})"));
  const google::rpc::Status rpc = ToRpcStatus(mapped);
  EXPECT_EQ(rpc.code(), static_cast<int>(Code::NOT_FOUND));
  EXPECT_EQ(rpc.message(), mapped.error_message());
  EXPECT_EQ(rpc.details_size(), 3);  // ErrorInfo, GitLabError, ResourceInfo

  const google::rpc::Status plain =
      ToRpcStatus(grpc::Status(Code::ABORTED, "conflict"));
  EXPECT_EQ(plain.code(), static_cast<int>(Code::ABORTED));
  EXPECT_EQ(plain.message(), "conflict");
  EXPECT_EQ(plain.details_size(), 0);

  const google::rpc::Status garbage =
      ToRpcStatus(grpc::Status(Code::INTERNAL, "x", "\xFF\xFF\xFF"));
  EXPECT_EQ(garbage.code(), static_cast<int>(Code::INTERNAL));
  EXPECT_EQ(garbage.message(), "x");

  EXPECT_EQ(ToRpcStatus(grpc::Status::OK).code(), 0);
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
