// Who called what, end to end: one access-log line per Execute, BatchExecute
// item and Paginate page (refusals included), correlation ids sent to the
// fake GitLab, bad correlation metadata refused before anything goes
// upstream, and refusals counted by reason and caller.
#include <regex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/access_log_reader.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const std::regex kUuidV4(
    "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

std::function<void(server::GatewayConfig&)> LogTo(const AccessLogFile& file) {
  return [path = file.path()](server::GatewayConfig& config) {
    config.access_log = path;
  };
}

grpc::Status Execute(GatewayHarness& h, const v1::Request& request,
                     std::vector<std::pair<std::string, std::string>> metadata,
                     v1::Response* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  for (auto& [key, value] : metadata) context.AddMetadata(key, value);
  return h.stub->Execute(&context, request, response);
}

// The values of every header `name` (any case) the fake received.
std::vector<std::string> HeaderValues(const RecordedRequest& r,
                                      absl::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : r.headers) {
    if (absl::EqualsIgnoreCase(n, name)) out.push_back(v);
  }
  return out;
}

TEST(AccessLogRpcTest, ExecuteIsOneLineWithEveryFieldAndCorrelationIsSent) {
  AccessLogFile file("execute");
  GatewayHarness h(LogTo(file));
  h.fake.Enqueue(
      Reply::Json(200, R"({"id":42})").WithHeader("X-Request-Id", "gl-01HXYZ"));
  v1::Request request = Get("/projects/42");
  request.set_id("call-1");
  const std::string traceparent =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  v1::Response response;
  ASSERT_TRUE(
      Execute(h, request,
              {{"x-request-id", "req-abc"},
               {"traceparent", traceparent},
               {"tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"}},
              &response)
          .ok());

  ASSERT_EQ(h.fake.request_count(), 1u);
  RecordedRequest sent = h.fake.requests()[0];
  EXPECT_THAT(HeaderValues(sent, "X-Request-Id"),
              ::testing::ElementsAre("req-abc"));
  EXPECT_THAT(HeaderValues(sent, "traceparent"),
              ::testing::ElementsAre(traceparent));
  EXPECT_THAT(
      HeaderValues(sent, "tracestate"),
      ::testing::ElementsAre("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"));

  std::vector<AccessLine> lines = file.Lines(*h.server);
  ASSERT_THAT(lines, SizeIs(1));
  const AccessLine& line = lines[0];
  EXPECT_TRUE(
      std::regex_match(line.Str("time"),
                       std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << line.raw;
  EXPECT_EQ(line.Str("caller"), "anonymous");
  EXPECT_EQ(line.Str("rpc"), "Execute");
  EXPECT_EQ(line.Str("id"), "call-1");
  EXPECT_EQ(line.Str("method"), "GET");
  EXPECT_EQ(line.Str("route"), "/projects/:id");
  EXPECT_EQ(line.Str("credential"), "default");
  EXPECT_EQ(line.Str("credential_name"), "default");
  EXPECT_EQ(line.Num("gitlab_status"), 200);
  EXPECT_EQ(line.Str("grpc_code"), "OK");
  EXPECT_EQ(line.Str("reason"), "");
  EXPECT_EQ(line.Num("attempts"), 1);
  EXPECT_GT(line.Num("upstream_ms"), 0);
  EXPECT_GE(line.Num("total_ms"), line.Num("upstream_ms"));
  EXPECT_EQ(line.Str("gitlab_request_id"), "gl-01HXYZ");
  EXPECT_EQ(line.Str("request_id"), "req-abc");
}

TEST(AccessLogRpcTest, ARequestIdIsGeneratedWhenTheCallerSendsNone) {
  AccessLogFile file("generated");
  GatewayHarness h(LogTo(file));
  v1::Response response;
  ASSERT_TRUE(Execute(h, Get("/projects"), {}, &response).ok());
  ASSERT_TRUE(Execute(h, Get("/projects"), {}, &response).ok());
  ASSERT_EQ(h.fake.request_count(), 2u);
  std::vector<RecordedRequest> sent = h.fake.requests();
  std::vector<AccessLine> lines = file.Lines(*h.server);
  ASSERT_THAT(lines, SizeIs(2));
  for (int i = 0; i < 2; ++i) {
    std::vector<std::string> ids = HeaderValues(sent[i], "X-Request-Id");
    ASSERT_THAT(ids, SizeIs(1));
    EXPECT_TRUE(std::regex_match(ids[0], kUuidV4)) << ids[0];
    EXPECT_EQ(lines[i].Str("request_id"), ids[0]);
    // Nothing invented for trace context.
    EXPECT_THAT(HeaderValues(sent[i], "traceparent"), IsEmpty());
  }
  EXPECT_NE(lines[0].Str("request_id"), lines[1].Str("request_id"));
}

TEST(AccessLogRpcTest, TheRequestsOwnHeaderWinsOverTheMetadata) {
  AccessLogFile file("precedence");
  GatewayHarness h(LogTo(file));
  v1::Request request = Get("/projects");
  v1::Header* own = request.add_headers();
  own->set_name("X-Request-Id");
  own->set_value("item-own-id");
  v1::Response response;
  ASSERT_TRUE(
      Execute(h, request, {{"x-request-id", "rpc-id"}}, &response).ok());
  ASSERT_EQ(h.fake.request_count(), 1u);
  EXPECT_THAT(HeaderValues(h.fake.requests()[0], "X-Request-Id"),
              ::testing::ElementsAre("item-own-id"));
  std::vector<AccessLine> lines = file.Lines(*h.server);
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_EQ(lines[0].Str("request_id"), "item-own-id");
}

TEST(AccessLogRpcTest, BadCorrelationMetadataIsRefusedNamingTheKey) {
  AccessLogFile file("bad_metadata");
  GatewayHarness h(LogTo(file));
  struct Case {
    std::vector<std::pair<std::string, std::string>> metadata;
    std::string key;
  };
  const std::vector<Case> cases = {
      {{{"x-request-id", std::string(300, 'r')}}, "x-request-id"},
      {{{"traceparent", std::string(256, 't')}}, "traceparent"},
      {{{"tracestate", std::string(2000, 's')}}, "tracestate"},
      {{{"x-request-id", "one"}, {"x-request-id", "two"}}, "x-request-id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    v1::Request request = Get("/projects");
    request.set_id("refused-call");
    v1::Response response;
    grpc::Status status = Execute(h, request, c.metadata, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), ::testing::StartsWith(c.key + ": "));
    EXPECT_THAT(status, HasReason("INVALID_METADATA"));
    EXPECT_EQ(ViolatedField(RpcStatus(status)), c.key);
    // Never quoting the value.
    EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("rrrr")));
  }
  EXPECT_EQ(h.fake.request_count(), 0u);
  std::vector<AccessLine> lines = file.Lines(*h.server);
  ASSERT_THAT(lines, SizeIs(cases.size()));
  for (const AccessLine& line : lines) {
    EXPECT_EQ(line.Str("reason"), "INVALID_METADATA");
    EXPECT_EQ(line.Str("id"), "refused-call");
    EXPECT_EQ(line.Num("attempts"), 0);
  }
  EXPECT_THAT(MetricsText(*h.server),
              HasSubstr("gitlab_gateway_refusals_total{caller=\"anonymous\","
                        "reason=\"INVALID_METADATA\"} 4"));
}

TEST(AccessLogRpcTest, BadMetadataRefusesAStreamBeforeAnythingIsSent) {
  AccessLogFile file("bad_stream_metadata");
  GatewayHarness h(LogTo(file));
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.AddMetadata("traceparent", std::string(300, 't'));
    auto stream = h.stub->BatchExecute(&context);
    stream->Write(Get("/projects"));  // may fail: the stream is refused
    stream->WritesDone();
    v1::Response response;
    while (stream->Read(&response)) {
    }
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(ViolatedField(RpcStatus(status)), "traceparent");
  }
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.AddMetadata("tracestate", std::string(2000, 's'));
    v1::PaginateRequest list;
    *list.mutable_request() = Get("/projects");
    auto reader = h.stub->Paginate(&context, list);
    v1::Response page;
    while (reader->Read(&page)) {
    }
    grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(ViolatedField(RpcStatus(status)), "tracestate");
  }
  EXPECT_EQ(h.fake.request_count(), 0u);
  std::vector<AccessLine> lines = file.Lines(*h.server);
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(lines[0].Str("rpc"), "BatchExecute");
  EXPECT_EQ(lines[1].Str("rpc"), "Paginate");
  for (const AccessLine& line : lines) {
    EXPECT_EQ(line.Str("reason"), "INVALID_METADATA");
  }
}

TEST(AccessLogRpcTest, ErrorsAndRefusalsAreLoggedWithTheirReason) {
  AccessLogFile file("errors");
  GatewayHarness h(LogTo(file));
  h.fake.Enqueue(Reply::Json(404, R"({"message":"404 Project Not Found"})"));
  v1::Response response;
  v1::Request missing = Get("/projects/7/issues/9");
  missing.set_id("missing");
  EXPECT_EQ(Execute(h, missing, {}, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::Request bad = Get("/projects/../admin");
  bad.set_id("bad-path");
  EXPECT_EQ(Execute(h, bad, {}, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::Request own = Get("/user");
  own.set_id("own-token");
  own.mutable_credentials()->set_private_token("glpat-own");
  EXPECT_TRUE(Execute(h, own, {}, &response).ok());
  EXPECT_EQ(h.fake.request_count(), 2u);

  std::vector<AccessLine> lines = file.Lines(*h.server);
  ASSERT_THAT(lines, SizeIs(3));
  EXPECT_EQ(lines[0].Str("id"), "missing");
  EXPECT_EQ(lines[0].Str("route"), "/projects/:id/issues/:issue_iid");
  EXPECT_EQ(lines[0].Num("gitlab_status"), 404);
  EXPECT_EQ(lines[0].Str("grpc_code"), "NOT_FOUND");
  EXPECT_EQ(lines[0].Str("reason"), "GITLAB_NOT_FOUND");
  EXPECT_EQ(lines[1].Str("id"), "bad-path");
  EXPECT_EQ(lines[1].Str("grpc_code"), "INVALID_ARGUMENT");
  EXPECT_EQ(lines[1].Str("reason"), "INVALID_PATH");
  EXPECT_EQ(lines[1].Num("gitlab_status"), 0);
  EXPECT_EQ(lines[1].Str("method"), "");
  EXPECT_EQ(lines[2].Str("credential"), "caller");

  std::string metrics = MetricsText(*h.server);
  EXPECT_THAT(metrics,
              HasSubstr("gitlab_gateway_refusals_total{caller=\"anonymous\","
                        "reason=\"INVALID_PATH\"} 1"));
  // A GitLab answer is not a refusal.
  EXPECT_THAT(metrics,
              ::testing::Not(HasSubstr("reason=\"GITLAB_NOT_FOUND\"")));
  EXPECT_THAT(metrics,
              HasSubstr("gitlab_gateway_calls_total{caller=\"anonymous\","
                        "grpc_code=\"NOT_FOUND\",rpc=\"Execute\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("grpc_server_handled_total{caller=\"anonymous\","));
}

TEST(AccessLogRpcTest, EveryBatchItemIsOneLineSharingTheStreamsRequestId) {
  AccessLogFile file("batch");
  GatewayHarness h(LogTo(file));
  h.fake.SetHandler([](const RecordedRequest& r) {
    return absl::StrContains(r.path, "missing")
               ? Reply::Json(404, R"({"message":"404 Not Found"})")
               : Reply::Json(200, "[]");
  });
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("x-request-id", "batch-rid");
  auto stream = h.stub->BatchExecute(&context);
  std::vector<v1::Request> items = {Get("/projects"), Get("/projects/missing"),
                                    Get("//bad"), Get("/groups")};
  items[0].set_id("ok");
  items[1].set_id("nf");
  items[2].set_id("refused");
  // items[3] has no id: the gateway names it by its index.
  for (const v1::Request& item : items) ASSERT_TRUE(stream->Write(item));
  stream->WritesDone();
  v1::Response response;
  int read = 0;
  while (stream->Read(&response)) ++read;
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(read, 4);

  std::vector<AccessLine> lines = file.Lines(*h.server);
  ASSERT_THAT(lines, SizeIs(4));
  std::map<std::string, const AccessLine*> by_id;
  for (const AccessLine& line : lines) {
    EXPECT_EQ(line.Str("rpc"), "BatchExecute");
    EXPECT_EQ(line.Str("request_id"), "batch-rid");
    by_id[line.Str("id")] = &line;
  }
  ASSERT_EQ(by_id.count("ok"), 1u);
  ASSERT_EQ(by_id.count("nf"), 1u);
  ASSERT_EQ(by_id.count("refused"), 1u);
  ASSERT_EQ(by_id.count("3"), 1u);
  EXPECT_EQ(by_id["ok"]->Str("grpc_code"), "OK");
  EXPECT_EQ(by_id["nf"]->Str("reason"), "GITLAB_NOT_FOUND");
  EXPECT_EQ(by_id["refused"]->Str("reason"), "INVALID_PATH");
  EXPECT_EQ(by_id["3"]->Str("route"), "/groups");
  for (const RecordedRequest& r : h.fake.requests()) {
    EXPECT_THAT(HeaderValues(r, "X-Request-Id"),
                ::testing::ElementsAre("batch-rid"));
  }
}

TEST(AccessLogRpcTest, EveryPaginatePageIsOneLineAndARefusalToo) {
  AccessLogFile file("paginate");
  GatewayHarness h(LogTo(file));
  h.fake.SetHandler([](const RecordedRequest& r) {
    const bool last = absl::StrContains(r.query, "page=3");
    const std::string page = absl::StrContains(r.query, "page=2")   ? "2"
                             : absl::StrContains(r.query, "page=3") ? "3"
                                                                    : "1";
    return Reply::Json(200, R"([{"id":1}])")
        .WithHeader("x-page", page)
        .WithHeader("x-per-page", "1")
        .WithHeader("x-next-page",
                    last ? "" : std::to_string(std::stoi(page) + 1));
  });
  v1::PaginateRequest list;
  list.mutable_request()->set_path("/projects/5/issues");
  list.mutable_request()->set_id("list");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = h.stub->Paginate(&context, list);
  v1::Response page;
  int pages = 0;
  while (reader->Read(&page)) ++pages;
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(pages, 3);

  v1::PaginateRequest refused = list;
  refused.set_max_pages(-1);
  grpc::ClientContext context2;
  auto reader2 = h.stub->Paginate(&context2, refused);
  while (reader2->Read(&page)) {
  }
  EXPECT_EQ(reader2->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  std::vector<AccessLine> lines = file.Lines(*h.server);
  ASSERT_THAT(lines, SizeIs(4));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i].Str("rpc"), "Paginate");
    EXPECT_EQ(lines[i].Str("id"), "list");
    EXPECT_EQ(lines[i].Str("route"), "/projects/:id/issues");
    EXPECT_EQ(lines[i].Num("gitlab_status"), 200);
  }
  // Every page of one Paginate carries the RPC's (generated) request id.
  EXPECT_EQ(lines[0].Str("request_id"), lines[2].Str("request_id"));
  EXPECT_EQ(lines[3].Str("reason"), "INVALID_LIMIT");
  EXPECT_THAT(MetricsText(*h.server),
              HasSubstr("gitlab_gateway_calls_total{caller=\"anonymous\","
                        "grpc_code=\"OK\",rpc=\"Paginate\"} 3"));
}

TEST(AccessLogRpcTest, OffWritesNothingAndCallsStillWork) {
  GatewayHarness h;  // the harness turns the log off
  EXPECT_EQ(h.server->access_log(), nullptr);
  v1::Response response;
  EXPECT_TRUE(Execute(h, Get("/projects"), {}, &response).ok());
}

}  // namespace
}  // namespace gitlab_gateway::testing
