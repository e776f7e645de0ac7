// Correlation headers: value rules, UUID v4 request ids, and precedence of a
// Request's own headers over the RPC's metadata.
#include "service/gitlab/correlation_headers.h"

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/gitlab/request_validator.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CorrelationHeadersTest, ValueRules) {
  EXPECT_EQ(CorrelationValueProblem("X-Request-Id", "abc-123"), std::nullopt);
  EXPECT_EQ(CorrelationValueProblem(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            std::nullopt);
  EXPECT_EQ(CorrelationValueProblem("tracestate", "congo=t61rcWkgMzE, rojo=1"),
            std::nullopt);
  EXPECT_THAT(*CorrelationValueProblem("X-Request-Id", ""), HasSubstr("empty"));
  EXPECT_THAT(*CorrelationValueProblem("X-Request-Id", "a\nb"),
              HasSubstr("printable ASCII"));
  EXPECT_THAT(*CorrelationValueProblem("X-Request-Id", "caf\xc3\xa9"),
              HasSubstr("printable ASCII"));
  EXPECT_THAT(*CorrelationValueProblem("X-Request-Id", "a\tb"),
              HasSubstr("printable ASCII"));
  EXPECT_THAT(*CorrelationValueProblem("X-Request-Id", " a"),
              HasSubstr("space"));
  EXPECT_EQ(CorrelationValueProblem("x-request-id",
                                    std::string(kMaxRequestIdBytes, 'a')),
            std::nullopt);
  EXPECT_THAT(*CorrelationValueProblem(
                  "x-request-id", std::string(kMaxRequestIdBytes + 1, 'a')),
              HasSubstr("at most 255 bytes"));
  // tracestate has room for more.
  EXPECT_EQ(CorrelationValueProblem("tracestate", std::string(1000, 'a')),
            std::nullopt);
  EXPECT_NE(CorrelationValueProblem("tracestate",
                                    std::string(kMaxTracestateBytes + 1, 'a')),
            std::nullopt);
}

TEST(CorrelationHeadersTest, NewRequestIdIsAUuidV4AndFresh) {
  const std::regex kUuidV4(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRequestId();
    ASSERT_TRUE(std::regex_match(id, kUuidV4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(CorrelationHeadersTest, MetadataValuesAreAddedUnlessTheRequestSetsThem) {
  Correlation rpc{"rid-1", "00-aa-bb-01", "k=v"};
  v1::Request request;
  std::vector<std::string> lines;
  AddCorrelationHeaders(request, rpc, &lines);
  EXPECT_THAT(lines,
              ElementsAre("X-Request-Id: rid-1", "traceparent: 00-aa-bb-01",
                          "tracestate: k=v"));
  EXPECT_EQ(SentRequestId(request, "rid-1"), "rid-1");

  v1::Header* own = request.add_headers();
  own->set_name("x_request_id");  // any spelling Rack reads as the same
  own->set_value("item-7");
  lines.clear();
  AddCorrelationHeaders(request, rpc, &lines);
  EXPECT_THAT(lines,
              ElementsAre("traceparent: 00-aa-bb-01", "tracestate: k=v"));
  EXPECT_EQ(SentRequestId(request, "rid-1"), "item-7");

  lines.clear();
  AddCorrelationHeaders(v1::Request(), Correlation{"rid", "", ""}, &lines);
  EXPECT_THAT(lines, ElementsAre("X-Request-Id: rid"));
}

TEST(CorrelationHeadersTest, ValidatorAppliesTheSameRulesToRequestHeaders) {
  v1::Request request;
  request.set_path("/projects");
  v1::Header* h = request.add_headers();
  h->set_name("Accept");
  h->set_value("application/json");
  h = request.add_headers();
  h->set_name("X-Request-Id");
  h->set_value("caf\xc3\xa9");
  std::optional<FieldViolation> v = ValidateRequest(request);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->field, "headers[1].value");
  EXPECT_EQ(v->reason, "INVALID_HEADER");
  EXPECT_THAT(v->description, HasSubstr("X-Request-Id"));
  EXPECT_THAT(v->description, ::testing::Not(HasSubstr("caf")));
  h->set_value("fine-id");
  EXPECT_EQ(ValidateRequest(request), std::nullopt);
  h->set_name("traceparent");
  h->set_value(std::string(300, 'a'));
  ASSERT_TRUE(ValidateRequest(request).has_value());
  EXPECT_EQ(ValidateRequest(request)->field, "headers[1].value");
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
