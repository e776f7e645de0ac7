// gitlab::FollowPage, OffsetPageRequest and PaginateRefusal without gRPC:
// which page follows which, in each pagination mode.
#include "service/gitlab/pagination_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace gitlab_gateway::gitlab {
namespace {

namespace v1 = ::gitlab::gateway::v1;
using ::gitlab_gateway::testing::HasReason;
using Kind = FollowUp::Kind;

BaseUrl Base() { return *ParseBaseUrl("https://gitlab.example"); }

v1::Request List(const char* path) {
  v1::Request request;
  request.set_path(path);
  return request;
}

v1::Response Page(const char* body, int64_t page, int64_t next_page) {
  v1::Response response;
  response.set_text(body);
  response.mutable_page()->set_page(page);
  response.mutable_page()->set_next_page(next_page);
  return response;
}

PageContext Context(int64_t seq, int64_t items_seen, int64_t max_pages = 100,
                    int64_t max_items = 0) {
  return PageContext{seq, items_seen, max_pages, max_items, false};
}

TEST(FollowPageTest, OffsetWithoutTotalsFollowsNextPage) {
  FollowUp follow = FollowPage(List("/projects"), Base(),
                               Page("[1,2]", 1, 2), Context(1, 2));
  EXPECT_EQ(follow.kind, Kind::kOffset);
  EXPECT_EQ(follow.page, 2);
}

TEST(FollowPageTest, OffsetWithTotalsPrefetchesUpToMaxPages) {
  v1::Response first = Page("[1,2]", 1, 2);
  first.mutable_page()->set_total_pages(50);
  FollowUp follow =
      FollowPage(List("/projects"), Base(), first, Context(1, 2, 10));
  EXPECT_EQ(follow.kind, Kind::kPrefetch);
  EXPECT_EQ(follow.page, 1);
  EXPECT_EQ(follow.last_page, 10);

  first.mutable_page()->set_total_pages(3);
  EXPECT_EQ(FollowPage(List("/projects"), Base(), first, Context(1, 2, 10))
                .last_page,
            3);
}

TEST(FollowPageTest, NothingFollowsWhilePrefetchingOrAtALimit) {
  const v1::Response page = Page("[1,2]", 2, 3);
  PageContext prefetching = Context(2, 4);
  prefetching.prefetching = true;
  EXPECT_EQ(FollowPage(List("/p"), Base(), page, prefetching).kind, Kind::kNone);
  EXPECT_EQ(FollowPage(List("/p"), Base(), page, Context(2, 4, 2)).kind,
            Kind::kNone);  // max_pages reached
  EXPECT_EQ(FollowPage(List("/p"), Base(), page, Context(2, 4, 100, 4)).kind,
            Kind::kNone);  // max_items reached
  EXPECT_EQ(FollowPage(List("/p"), Base(), page, Context(2, 4, 100, 5)).kind,
            Kind::kOffset);
  EXPECT_EQ(
      FollowPage(List("/p"), Base(), Page("[]", 2, 3), Context(2, 4)).kind,
      Kind::kNone);  // an empty page ends the stream
  EXPECT_EQ(
      FollowPage(List("/p"), Base(), Page("[1]", 2, 0), Context(2, 4)).kind,
      Kind::kNone);  // no x-next-page
}

TEST(FollowPageTest, KeysetFollowsTheValidatedLinkExactly) {
  const char* link =
      "https://gitlab.example/api/v4/projects?id_after=5&pagination=keyset";
  v1::Response page = Page("[1]", 0, 0);
  page.mutable_page()->set_next_link(link);
  FollowUp follow =
      FollowPage(List("/projects"), Base(), page, Context(1, 1));
  EXPECT_EQ(follow.kind, Kind::kLink);
  EXPECT_EQ(follow.url, link);

  // Asked for keyset: the Link is followed even with x-page present, and
  // its absence ends the stream rather than falling back to offsets.
  v1::Request keyset = List("/projects");
  v1::Param* p = keyset.add_query();
  p->set_key("pagination");
  p->set_value("keyset");
  page.mutable_page()->set_page(1);
  page.mutable_page()->set_next_page(2);
  EXPECT_EQ(FollowPage(keyset, Base(), page, Context(1, 1)).kind, Kind::kLink);
  page.mutable_page()->clear_next_link();
  EXPECT_EQ(FollowPage(keyset, Base(), page, Context(1, 1)).kind, Kind::kNone);
}

TEST(FollowPageTest, ALinkToAnotherHostIsRefusedNotFollowed) {
  v1::Response page = Page("[1]", 0, 0);
  page.mutable_page()->set_next_link(
      "https://evil.example/api/v4/projects?id_after=5");
  FollowUp follow =
      FollowPage(List("/projects"), Base(), page, Context(1, 1));
  EXPECT_EQ(follow.kind, Kind::kRefused);
  EXPECT_EQ(follow.refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(follow.refused, HasReason("NEXT_LINK_REFUSED"));
}

TEST(OffsetPageRequestTest, ReplacesOrAppendsThePageParameter) {
  v1::Request request = List("/projects");
  v1::Param* p = request.add_query();
  p->set_key("per_page");
  p->set_value("100");
  v1::Request second = OffsetPageRequest(request, 2);
  ASSERT_EQ(second.query_size(), 2);
  EXPECT_EQ(second.query(1).key(), "page");
  EXPECT_EQ(second.query(1).value(), "2");
  v1::Request third = OffsetPageRequest(second, 3);
  ASSERT_EQ(third.query_size(), 2);
  EXPECT_EQ(third.query(1).value(), "3");
}

TEST(PaginateRefusalTest, NamesTheFieldOfThePaginateRequest) {
  v1::PaginateRequest request;
  request.mutable_request()->set_path("/projects");
  EXPECT_EQ(PaginateRefusal(request), std::nullopt);

  request.set_max_pages(-1);
  ASSERT_TRUE(PaginateRefusal(request).has_value());
  EXPECT_THAT(*PaginateRefusal(request), HasReason("INVALID_LIMIT"));
  request.set_max_pages(0);

  request.mutable_request()->set_method("POST");
  ASSERT_TRUE(PaginateRefusal(request).has_value());
  EXPECT_THAT(*PaginateRefusal(request), HasReason("INVALID_METHOD"));
  EXPECT_THAT(PaginateRefusal(request)->error_message(),
              ::testing::HasSubstr("request.method"));
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
