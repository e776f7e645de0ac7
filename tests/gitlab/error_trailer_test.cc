// kMaxErrorTrailerBytes holds for answers built to overflow it: many tiny
// validation messages, long GraphQL errors, and every bounded field at its
// maximum at once. The first two were found by tests/fuzz/error_answer_fuzzer.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::gitlab {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The estimate status_mapping.h documents: grpc-message percent-encoded plus
// grpc-status-details-bin in base64.
size_t TrailerBytes(const grpc::Status& status) {
  size_t bytes = 0;
  for (char c : status.error_message()) {
    const auto u = static_cast<unsigned char>(c);
    bytes += (u < 0x20 || u > 0x7e || u == '%') ? 3 : 1;
  }
  return bytes + (status.error_details().size() + 2) / 3 * 4;
}

google::rpc::BadRequest BadRequestOf(const grpc::Status& status) {
  google::rpc::Status rpc;
  EXPECT_TRUE(rpc.ParseFromString(status.error_details()));
  google::rpc::BadRequest bad;
  for (const auto& any : rpc.details()) {
    if (any.Is<google::rpc::BadRequest>()) {
      EXPECT_TRUE(any.UnpackTo(&bad));
    }
  }
  return bad;
}

grpc::Status Map(int http_status, const std::string& body,
                 const Headers& headers = {}) {
  UpstreamAnswer answer{http_status,
                        headers,
                        body,
                        "application/json",
                        "/projects/1",
                        absl::FromUnixSeconds(1700000000),
                        1};
  return IsSuccess(http_status) ? MapGraphqlErrors("gitlab.example.com", answer)
                                : MapGitLabAnswer("gitlab.example.com", answer);
}

std::string JsonList(const std::string& item, int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, i ? "," : "", item);
  return out + "]";
}

TEST(ErrorTrailerTest, ManyTinyValidationMessages) {
  // 600 x {"x": "a"}: 2 bytes of text each, ~8 on the wire.
  const std::string body =
      absl::StrCat(R"({"message":{"x":)", JsonList(R"("a")", 600), "}}");
  const grpc::Status status = Map(422, body);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(TrailerBytes(status), kMaxErrorTrailerBytes);
  const int listed = BadRequestOf(status).field_violations_size();
  EXPECT_GT(listed, 10);
  EXPECT_LT(listed, 600);
}

TEST(ErrorTrailerTest, LongGraphqlErrors) {
  // 20 errors, each with a 256-byte non-ASCII message (percent-encoded
  // three times over in grpc-message) and a 256-byte path.
  std::string message;
  for (int i = 0; i < 128; ++i) message += "\xc3\xa9";  // é
  const std::string error =
      absl::StrCat(R"({"message":")", message, R"(","path":[")",
                   std::string(250, 'p'), R"("]})");
  const std::string body =
      absl::StrCat(R"({"data":null,"errors":)", JsonList(error, 20), "}");
  const grpc::Status status = Map(200, body);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(TrailerBytes(status), kMaxErrorTrailerBytes);
  const int listed = BadRequestOf(status).field_violations_size();
  EXPECT_GE(listed, 1);
  EXPECT_LT(listed, 20);
}

TEST(ErrorTrailerTest, ShortGraphqlErrorsAreAllListed) {
  const std::string body = absl::StrCat(
      R"({"errors":)", JsonList(R"({"message":"Field 'x' doesn't exist"})", 20),
      "}");
  const grpc::Status status = Map(200, body);
  EXPECT_EQ(BadRequestOf(status).field_violations_size(), 20);
}

TEST(ErrorTrailerTest, EveryBoundedFieldAtItsMaximum) {
  // A 1 KiB non-ASCII message, a 1 KiB OAuth error code, a validation map
  // with long non-ASCII keys, and long headers: for each mapped status.
  std::string e;
  for (int i = 0; i < 600; ++i) e += "\xc3\xa9";
  std::string map = "{";
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&map, i ? "," : "", "\"", e.substr(0, 200), i, "\":[\"",
                    e.substr(0, 400), "\"]");
  }
  map += "}";
  const std::string code(1100, 'a');
  const std::vector<std::string> bodies = {
      absl::StrCat(R"({"message":")", e, R"(","error":")", code, R"("})"),
      absl::StrCat(R"({"message":)", map, R"(,"error":")", code, R"("})")};
  const Headers headers = {{"Location", e},
                           {"Retry-After", "30"},
                           {"X-Long", std::string(8000, 'h')}};
  for (int http : {301, 400, 401, 404, 409, 422, 429, 500, 503}) {
    for (const std::string& body : bodies) {
      const grpc::Status status = Map(http, body, headers);
      EXPECT_LE(TrailerBytes(status), kMaxErrorTrailerBytes) << http;
    }
  }
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
