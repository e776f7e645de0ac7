// Execute's error contract end to end: every mapped GitLab status with its
// details, transport failures, and refused input that never reaches GitLab.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;

struct MappingRow {
  int http;
  grpc::StatusCode code;
  const char* reason;
  const char* body;
};

constexpr MappingRow kMappingRows[] = {
    {400, grpc::StatusCode::INVALID_ARGUMENT, "GITLAB_BAD_REQUEST",
     R"({"message":"400 (Bad request) \"title\" not given"})"},
    {401, grpc::StatusCode::UNAUTHENTICATED, "GITLAB_UNAUTHENTICATED",
     R"({"message":"401 Unauthorized"})"},
    {403, grpc::StatusCode::PERMISSION_DENIED, "GITLAB_PERMISSION_DENIED",
     R"({"message":"403 Forbidden"})"},
    {404, grpc::StatusCode::NOT_FOUND, "GITLAB_NOT_FOUND",
     R"({"message":"404 Project Not Found"})"},
    {405, grpc::StatusCode::UNIMPLEMENTED, "GITLAB_METHOD_NOT_ALLOWED",
     R"({"message":"405 Method Not Allowed"})"},
    {409, grpc::StatusCode::ABORTED, "GITLAB_CONFLICT",
     R"({"message":"409 Conflict"})"},
    {412, grpc::StatusCode::FAILED_PRECONDITION, "GITLAB_PRECONDITION_FAILED",
     R"({"message":"412 Precondition Failed"})"},
    {422, grpc::StatusCode::INVALID_ARGUMENT, "GITLAB_UNPROCESSABLE",
     R"({"message":{"name":["has already been taken"]}})"},
    {429, grpc::StatusCode::RESOURCE_EXHAUSTED, "GITLAB_RATE_LIMITED",
     "Retry later"},
    {499, grpc::StatusCode::CANCELLED, "GITLAB_CLIENT_CLOSED_REQUEST", ""},
    {500, grpc::StatusCode::INTERNAL, "GITLAB_INTERNAL_ERROR",
     R"({"message":"500 Internal Server Error"})"},
    {501, grpc::StatusCode::UNIMPLEMENTED, "GITLAB_NOT_IMPLEMENTED", ""},
    {502, grpc::StatusCode::UNAVAILABLE, "GITLAB_BAD_GATEWAY",
     "<html><head><title>502 Bad Gateway</title></head></html>"},
    {503, grpc::StatusCode::UNAVAILABLE, "GITLAB_UNAVAILABLE",
     "<html><head><title>503 Service Unavailable</title></head></html>"},
    {504, grpc::StatusCode::DEADLINE_EXCEEDED, "GITLAB_GATEWAY_TIMEOUT", ""},
};

TEST(ExecuteErrorsTest, EveryMappedStatusCarriesErrorInfoAndGitLabError) {
  GatewayHarness h;
  for (const MappingRow& row : kMappingRows) {
    h.fake.Enqueue(
        Reply{row.http, {{"Content-Type", "application/json"}}, row.body});
    v1::Response response;
    grpc::Status status = h.Execute(Get("/projects/42"), &response);
    SCOPED_TRACE(row.http);
    EXPECT_EQ(status.error_code(), row.code);
    auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
    EXPECT_EQ(info.reason(), row.reason);
    EXPECT_EQ(info.domain(), "127.0.0.1");
    EXPECT_EQ(info.metadata().at("httpStatus"), std::to_string(row.http));
    auto gitlab_error = OnlyDetail<v1::GitLabError>(status);
    EXPECT_EQ(gitlab_error.status_code(), row.http);
    EXPECT_EQ(gitlab_error.body(), row.body);
  }
}

TEST(ExecuteErrorsTest, NotFoundCarriesResourceInfoAndReadableMessage) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Json(404, R"({"message":"404 Project Not Found"})"));
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects/group%2Fdemo"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("Project Not Found"));
  auto resource = OnlyDetail<google::rpc::ResourceInfo>(status);
  EXPECT_EQ(resource.resource_type(), "projects");
  auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
  EXPECT_THAT(info.metadata().at("gitlabMessage"),
              HasSubstr("Project Not Found"));
}

TEST(ExecuteErrorsTest, ValidationErrorsBecomeFieldViolations) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Json(
      400, R"({"message":{"name":["has already been taken"],"path":["is too long"]}})"));
  v1::Request request = Get("/projects");
  request.set_method("POST");
  request.set_text(R"({"name":"x"})");
  v1::Response response;
  grpc::Status status = h.Execute(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto bad = OnlyDetail<google::rpc::BadRequest>(status);
  ASSERT_EQ(bad.field_violations_size(), 2);
  EXPECT_EQ(bad.field_violations(0).field(), "name");
  EXPECT_EQ(bad.field_violations(0).description(), "has already been taken");
  EXPECT_EQ(bad.field_violations(1).field(), "path");
}

TEST(ExecuteErrorsTest, RateLimitedCarriesRetryInfoFromRetryAfter) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Text(429, "Retry later").WithHeader("Retry-After", "7"));
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto retry = OnlyDetail<google::rpc::RetryInfo>(status);
  EXPECT_EQ(retry.retry_delay().seconds(), 7);
  EXPECT_EQ(OnlyDetail<v1::GitLabError>(status).message(), "Retry later");
}

TEST(ExecuteErrorsTest, OAuthErrorBodyIsReadable) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Json(
      401,
      R"({"error":"invalid_token","error_description":"Token is expired."})"));
  v1::Response response;
  grpc::Status status = h.Execute(Get("/user"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("Token is expired."));
  // Neither the default token nor anything secret leaks into the error.
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr(kDefaultToken)));
  EXPECT_THAT(status.error_details(), ::testing::Not(HasSubstr(kDefaultToken)));
}

TEST(ExecuteErrorsTest, ConnectionResetIsUnavailable) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Do(Reply::Action::kReset));
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
  EXPECT_EQ(info.domain(), "gitlab-gateway");
  EXPECT_EQ(info.reason(), "UPSTREAM_CONNECTION_FAILURE");
  EXPECT_TRUE(Details<v1::GitLabError>(RpcStatus(status)).empty());
}

TEST(ExecuteErrorsTest, TruncatedBodyIsUnavailable) {
  GatewayHarness h;
  h.fake.Enqueue(Reply{200, {}, "{\"partial\":", absl::ZeroDuration(),
                       Reply::Action::kTruncate});
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ExecuteErrorsTest, RefusedConnectionIsUnavailable) {
  const ClosedPort closed;
  GatewayHarness h([&](server::GatewayConfig& config) {
    config.gitlab_url = absl::StrCat("http://127.0.0.1:", closed.port());
  });
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status, HasReason("UPSTREAM_CONNECT_FAILURE"));
}

TEST(ExecuteErrorsTest, ResponseOverTheByteCapIsRefused) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.engine.max_response_bytes = 1024;
  });
  h.fake.Enqueue(Reply::Json(200, std::string(4096, 'x')));
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status, HasReason("RESPONSE_TOO_LARGE"));
}

struct RefusedRow {
  std::function<void(v1::Request*)> edit;
  const char* field;
  const char* reason;
};

TEST(ExecuteErrorsTest, BadInputIsRefusedWithTheFieldNamedAndNothingSent) {
  GatewayHarness h;
  const RefusedRow rows[] = {
      {[](v1::Request* r) { r->set_path("projects"); }, "path", "INVALID_PATH"},
      {[](v1::Request* r) { r->set_path("/projects/../admin"); }, "path",
       "INVALID_PATH"},
      {[](v1::Request* r) { r->set_path("/projects/%2e%2e/admin"); }, "path",
       "INVALID_PATH"},
      {[](v1::Request* r) { r->set_path("/projects?private_token=x"); }, "path",
       "INVALID_PATH"},
      {[](v1::Request* r) { r->set_path("//evil.example/api"); }, "path",
       "INVALID_PATH"},
      {[](v1::Request* r) { r->set_path("/projects\r\nX-Evil: 1"); }, "path",
       "INVALID_PATH"},
      {[](v1::Request* r) { r->set_method("TRACE"); }, "method",
       "INVALID_METHOD"},
      {[](v1::Request* r) {
         auto* h = r->add_headers();
         h->set_name("PRIVATE-TOKEN");
         h->set_value("smuggled");
       },
       "headers[0].name", "INVALID_HEADER"},
      {[](v1::Request* r) {
         auto* h = r->add_headers();
         h->set_name("X-Ok");
         h->set_value("a\r\nHost: evil");
       },
       "headers[0].value", "INVALID_HEADER"},
      {[](v1::Request* r) { r->mutable_credentials()->set_private_token(""); },
       "credentials.private_token", "INVALID_CREDENTIALS"},
      {[](v1::Request* r) { r->mutable_timeout()->set_seconds(-1); },
       "timeout", "INVALID_TIMEOUT"},
  };
  for (const RefusedRow& row : rows) {
    v1::Request request = Get("/projects");
    row.edit(&request);
    v1::Response response;
    grpc::Status status = h.Execute(request, &response);
    SCOPED_TRACE(row.field);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr(row.field));
    auto bad = OnlyDetail<google::rpc::BadRequest>(status);
    ASSERT_EQ(bad.field_violations_size(), 1);
    EXPECT_EQ(bad.field_violations(0).field(), row.field);
    auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
    EXPECT_EQ(info.reason(), row.reason);
    EXPECT_EQ(info.domain(), "gitlab-gateway");
  }
  EXPECT_EQ(h.fake.request_count(), 0u);
}

}  // namespace
}  // namespace gitlab_gateway::testing
