// GraphQL through Execute and BatchExecute: POST /api/graphql with the body
// as given; a 200 with "errors" is INVALID_ARGUMENT; wrong shapes refused.
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kQuery[] = R"({"query":"{ project(fullPath: \"g/p\") { id } }"})";

v1::Request Graphql(std::string body = kQuery) {
  v1::Request request;
  request.set_api(v1::API_GRAPHQL);
  request.set_text(std::move(body));
  return request;
}

TEST(GraphqlTest, PostsTheBodyToApiGraphql) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Json(200, R"({"data":{"project":{"id":"gid://1"}}})"));
  v1::Response response;
  grpc::Status status = h.Execute(Graphql(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(response.text(), HasSubstr("gid://1"));
  RecordedRequest seen = h.fake.requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/api/graphql");
  EXPECT_EQ(seen.body, kQuery);
  EXPECT_EQ(seen.Header("Content-Type"), "application/json");
  EXPECT_EQ(seen.Header("PRIVATE-TOKEN"), kDefaultToken);
}

TEST(GraphqlTest, ErrorsArrayIsInvalidArgumentWithDetails) {
  GatewayHarness h;
  const std::string body =
      R"({"data":null,"errors":[{"message":"Field 'nope' doesn't exist",)"
      R"("path":["query","project","nope"]}]})";
  h.fake.Enqueue(Reply::Json(200, body));
  v1::Response response;
  grpc::Status status = h.Execute(Graphql(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("doesn't exist"));
  auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
  EXPECT_EQ(info.reason(), "GRAPHQL_ERROR");
  EXPECT_EQ(info.domain(), "127.0.0.1");
  auto bad = OnlyDetail<google::rpc::BadRequest>(status);
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "query.query.project.nope");
  EXPECT_EQ(OnlyDetail<v1::GitLabError>(status).body(), body);
}

TEST(GraphqlTest, WrongShapesAreRefusedWithoutReachingGitLab) {
  GatewayHarness h;
  v1::Request get = Graphql();
  get.set_method("GET");
  v1::Response response;
  grpc::Status status = h.Execute(get, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(OnlyDetail<google::rpc::BadRequest>(status).field_violations(0).field(),
            "method");
  v1::Request with_path = Graphql();
  with_path.set_path("/graphql");
  status = h.Execute(with_path, &response);
  EXPECT_EQ(OnlyDetail<google::rpc::BadRequest>(status).field_violations(0).field(),
            "path");
  status = h.Execute(Graphql(""), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(GraphqlTest, WorksInBatchExecute) {
  GatewayHarness h;
  h.fake.SetHandler([](const RecordedRequest& r) {
    if (r.target == "/api/graphql") return Reply::Json(200, R"({"data":{}})");
    return Reply::Json(200, "[]");
  });
  grpc::ClientContext context;
  auto stream = h.stub->BatchExecute(&context);
  v1::Request gql = Graphql();
  gql.set_id("gql");
  v1::Request rest;
  rest.set_id("rest");
  rest.set_path("/projects");
  ASSERT_TRUE(stream->Write(gql));
  ASSERT_TRUE(stream->Write(rest));
  stream->WritesDone();
  std::vector<std::string> ids;
  v1::Response response;
  while (stream->Read(&response)) {
    EXPECT_EQ(response.error().code(), 0) << response.id();
    ids.push_back(response.id());
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_THAT(ids, ::testing::UnorderedElementsAre("gql", "rest"));
}

}  // namespace
}  // namespace gitlab_gateway::testing
