// Fault injection through a real gateway (issue 11): every fault case of the
// README's "Fault cases" table alone, and the two ways a server drops an idle
// keep-alive connection. fault_mix_test.cc spreads 2,000 calls over all of them at once.
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/faults/fault_cases.h"
#include "tests/faults/fault_gateways.h"
#include "tests/faults/faulty_upstream.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

std::string TestName(const ::testing::TestParamInfo<FaultCase>& info) {
  std::string name;
  for (char ch : std::string(info.param.name)) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(ch))) {
      name += ch;
    } else if (!name.empty() && name.back() != '_') {
      name += '_';
    }
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  return name;
}

class FaultCaseTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultCaseTest, EachCallGetsTheDocumentedCodeAndReason) {
  const FaultCase& c = GetParam();
  FaultGateways g;
  for (int i = 0; i < 3; ++i) {
    v1::Response response;
    grpc::Status status = g.For(c).Execute(
        RequestFor(c, absl::StrCat("call-", i)), &response, absl::Seconds(30));
    EXPECT_EQ(CheckOutcome(c, status), "") << "call " << i;
  }
  g.ExpectDrained();
  // The gateway still serves a healthy call afterwards.
  v1::Response response;
  EXPECT_TRUE(g.plain.Execute(Get(FaultPath(Fault::kHealthy)), &response).ok());
}

INSTANTIATE_TEST_SUITE_P(Faults, FaultCaseTest,
                         ::testing::ValuesIn(FaultCases()), TestName);

// The next call after the server dropped an idle pooled connection succeeds
// (curl notices the close, or retries on a fresh connection).
TEST(IdleKeepAliveTest, CallAfterTheServerClosedTheIdleConnectionSucceeds) {
  FaultGateways g;  // the upstream drops idle connections after 20 ms
  v1::Response response;
  ASSERT_TRUE(
      g.plain.Execute(Get(FaultPath(Fault::kIdleClose)), &response).ok());
  ASSERT_TRUE(g.upstream.WaitForServerCloses(1, absl::Seconds(10)));
  grpc::Status next =
      g.plain.Execute(Get(FaultPath(Fault::kHealthy)), &response);
  EXPECT_TRUE(next.ok()) << next.error_message();
  EXPECT_EQ(response.status_code(), 200);
  EXPECT_EQ(g.upstream.counts().idle_closes, 1);
}

// The server closes the pooled connection just as the next request arrives:
// the request is read and never answered. The call must still succeed.
TEST(IdleKeepAliveTest, CallRacingTheServersCloseSucceeds) {
  FaultyUpstreamOptions options;
  options.idle_close_after = absl::Seconds(60);  // the next request wins
  FaultGateways g(options);
  v1::Response response;
  ASSERT_TRUE(
      g.plain.Execute(Get(FaultPath(Fault::kIdleClose)), &response).ok());
  grpc::Status next =
      g.plain.Execute(Get(FaultPath(Fault::kHealthy)), &response);
  EXPECT_TRUE(next.ok()) << next.error_message();
  EXPECT_EQ(response.status_code(), 200);
  EXPECT_EQ(g.upstream.counts().closed_on_reuse, 1);
}

}  // namespace
}  // namespace gitlab_gateway::testing
