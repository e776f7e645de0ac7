// Client::Paginate / PageStream: iteration, errors mid-stream, cancellation
// on early destruction (against a scripted Gateway service), and the real
// gateway's pages of the demo GitLab once it implements Paginate.
#include <string>
#include <vector>

#include "gitlab_gateway/client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/demo_gitlab.h"
#include "tests/client/fake_gateway_service.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::client {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::testing::ElementsAre;

v1::PaginateRequest Pages(std::string path, int max_pages = 0) {
  v1::PaginateRequest request;
  request.mutable_request()->set_path(std::move(path));
  request.set_max_pages(max_pages);
  return request;
}

TEST(PageStreamTest, RangeForReadsEveryPageThenEndsOk) {
  testing::FakeGateway fake;
  Client client(fake.channel);
  PageStream pages = client.Paginate(Pages("/pages", 4));
  std::vector<std::string> ids;
  for (const v1::Response& page : pages) ids.push_back(page.id());
  EXPECT_THAT(ids, ElementsAre("page-1", "page-2", "page-3", "page-4"));
  EXPECT_TRUE(pages.done());
  EXPECT_TRUE(pages.status().ok()) << pages.status();
  EXPECT_EQ(pages.pages_read(), 4);
  v1::Response extra;
  EXPECT_FALSE(pages.Next(&extra));  // stays ended
}

TEST(PageStreamTest, ErrorAfterAPageKeepsThePageAndDecodes) {
  testing::FakeGateway fake;
  Client client(fake.channel);
  PageStream pages = client.Paginate(Pages("/fail-after-one"));
  v1::Response page;
  ASSERT_TRUE(pages.Next(&page));
  EXPECT_EQ(page.text(), "[1]");
  EXPECT_FALSE(pages.Next(&page));
  EXPECT_EQ(pages.status().code(), absl::StatusCode::kNotFound);
  DecodedError error = DecodeError(pages.status());
  EXPECT_EQ(error.reason, "GITLAB_NOT_FOUND");
  EXPECT_EQ(error.domain, "gitlab.example.com");
}

TEST(PageStreamTest, DestroyingAnUnfinishedStreamCancelsTheCall) {
  testing::FakeGateway fake;
  Client client(fake.channel);
  {
    PageStream pages = client.Paginate(Pages("/endless"));
    v1::Response page;
    ASSERT_TRUE(pages.Next(&page));
    ASSERT_TRUE(pages.Next(&page));
    EXPECT_EQ(page.id(), "page-2");
  }
  EXPECT_TRUE(fake.service.WaitForEndlessCancelled(absl::Seconds(5)))
      << "the server never saw the cancellation";
}

TEST(PageStreamTest, CancelEndsWithCancelledAndMovesKeepState) {
  testing::FakeGateway fake;
  Client client(fake.channel);
  PageStream first = client.Paginate(Pages("/endless"));
  v1::Response page;
  ASSERT_TRUE(first.Next(&page));
  PageStream moved = std::move(first);
  EXPECT_EQ(moved.pages_read(), 1);
  moved.Cancel();
  EXPECT_TRUE(moved.done());
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(moved.Next(&page));
  moved.Cancel();  // again: no effect
  EXPECT_TRUE(fake.service.WaitForEndlessCancelled(absl::Seconds(5)));
}

TEST(PageStreamTest, DeadlineBoundsTheWholeStream) {
  testing::FakeGateway fake;
  // Connected first, so the deadline is spent on the stream, not the connect.
  ASSERT_TRUE(fake.channel->WaitForConnected(
      absl::ToChronoTime(absl::Now() + absl::Seconds(10))));
  ClientOptions options;
  options.default_timeout = absl::Seconds(1);
  Client client(fake.channel, options);
  PageStream pages = client.Paginate(Pages("/endless"));
  absl::Time start = absl::Now();
  int read = 0;
  for (const v1::Response& page : pages) {
    (void)page;
    ++read;
  }
  EXPECT_GT(read, 0);
  EXPECT_EQ(pages.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// The real gateway in front of the demo GitLab's 3 offset pages.
TEST(PaginateGatewayTest, StreamsTheDemoIssuePagesInOrder) {
  testing::GatewayHarness harness;
  testing::ScriptDemoGitLab(harness.fake);
  Client client(harness.channel);
  v1::PaginateRequest request = Pages("/projects/42/issues");
  request.mutable_request()->add_query()->set_key("per_page");
  request.mutable_request()->mutable_query(0)->set_value("2");
  PageStream pages = client.Paginate(request);
  std::vector<std::string> bodies;
  std::vector<int64_t> numbers;
  for (const v1::Response& page : pages) {
    bodies.push_back(page.text());
    numbers.push_back(page.page().page());
  }
  ASSERT_TRUE(pages.status().ok()) << DecodeError(pages.status()).ToString();
  EXPECT_THAT(bodies, ElementsAre(R"([{"iid":1},{"iid":2}])",
                                  R"([{"iid":3},{"iid":4}])",
                                  R"([{"iid":5},{"iid":6}])"));
  EXPECT_THAT(numbers, ElementsAre(1, 2, 3));
}

TEST(PaginateGatewayTest, MaxPagesStopsEarly) {
  testing::GatewayHarness harness;
  testing::ScriptDemoGitLab(harness.fake);
  Client client(harness.channel);
  PageStream pages = client.Paginate(Pages("/projects/42/issues", 2));
  std::vector<std::string> bodies;
  for (const v1::Response& page : pages) bodies.push_back(page.text());
  EXPECT_TRUE(pages.status().ok()) << DecodeError(pages.status()).ToString();
  EXPECT_THAT(bodies, ElementsAre(R"([{"iid":1},{"iid":2}])",
                                  R"([{"iid":3},{"iid":4}])"));
}

TEST(PaginateGatewayTest, UpstreamErrorEndsTheStreamDecodably) {
  testing::GatewayHarness harness;
  testing::ScriptDemoGitLab(harness.fake);
  Client client(harness.channel);
  PageStream pages = client.Paginate(Pages("/projects/7/issues"));
  int read = 0;
  for (const v1::Response& page : pages) {
    (void)page;
    ++read;
  }
  EXPECT_EQ(read, 0);
  EXPECT_EQ(pages.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DecodeError(pages.status()).reason, "GITLAB_NOT_FOUND");
}

}  // namespace
}  // namespace gitlab_gateway::client
