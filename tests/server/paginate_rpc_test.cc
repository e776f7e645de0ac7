// Paginate end to end: keyset links, offset prefetch in order, sequential
// fallback, limits, refused links, failing pages, cancel, bad input.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

v1::PaginateRequest List(std::string path, int max_pages = 0) {
  v1::PaginateRequest request;
  request.mutable_request()->set_path(std::move(path));
  request.set_max_pages(max_pages);
  return request;
}

std::vector<v1::Response> ReadAll(GatewayHarness& h,
                                  const v1::PaginateRequest& request,
                                  grpc::Status* status) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto reader = h.stub->Paginate(&context, request);
  std::vector<v1::Response> pages;
  v1::Response page;
  while (reader->Read(&page)) pages.push_back(page);
  *status = reader->Finish();
  return pages;
}

// The value of query parameter `key` in a raw query string.
int64_t QueryInt(absl::string_view query, absl::string_view key) {
  for (absl::string_view part : absl::StrSplit(query, '&')) {
    if (absl::StartsWith(part, absl::StrCat(key, "="))) {
      int64_t v = 0;
      (void)absl::SimpleAtoi(part.substr(key.size() + 1), &v);
      return v;
    }
  }
  return 0;
}

// Offset pages 1..total of two items each; totals sent when `with_totals`.
void OffsetPages(FakeGitLab& fake, int total, bool with_totals,
                 absl::Duration delay = absl::ZeroDuration()) {
  fake.SetHandler([total, with_totals, delay](const RecordedRequest& r) {
    int64_t page = std::max<int64_t>(1, QueryInt(r.query, "page"));
    Reply reply = Reply::Json(200, absl::StrCat(R"([{"id":)", page * 2 - 1,
                                                R"(},{"id":)", page * 2, "}]"));
    reply.WithHeader("x-page", absl::StrCat(page))
        .WithHeader("x-per-page", "2")
        .WithHeader("x-next-page", page < total ? absl::StrCat(page + 1) : "")
        .WithHeader("x-prev-page", page > 1 ? absl::StrCat(page - 1) : "")
        .WithDelay(delay);
    if (with_totals) {
      reply.WithHeader("x-total", absl::StrCat(total * 2))
          .WithHeader("x-total-pages", absl::StrCat(total));
    }
    return reply;
  });
}

TEST(PaginateTest, KeysetFollowsTheNextLinkExactly) {
  GatewayHarness h;
  const std::string base = h.fake.base_url();
  h.fake.SetHandler([base](const RecordedRequest& r) {
    int64_t after = QueryInt(r.query, "id_after");
    Reply reply = Reply::Json(
        200, absl::StrCat(R"([{"id":)", after + 1, R"(},{"id":)", after + 2, "}]"));
    if (after + 2 < 10) {
      reply.WithHeader("Link", absl::StrCat("<", base,
                                            "/api/v4/projects?id_after=", after + 2,
                                            "&order_by=id&pagination=keyset&sort=asc>; "
                                            "rel=\"next\""));
    }
    return reply;
  });
  v1::PaginateRequest request = List("/projects");
  for (auto [k, v] : {std::pair{"pagination", "keyset"}, std::pair{"order_by", "id"}}) {
    auto* p = request.mutable_request()->add_query();
    p->set_key(k);
    p->set_value(v);
  }
  grpc::Status status;
  std::vector<v1::Response> pages = ReadAll(h, request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(pages.size(), 5u);
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_THAT(pages[i].text(), ::testing::HasSubstr(absl::StrCat(R"({"id":)", 2 * i + 1)));
  }
  std::vector<RecordedRequest> seen = h.fake.requests();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[1].target,
            "/api/v4/projects?id_after=2&order_by=id&pagination=keyset&sort=asc");
}

TEST(PaginateTest, OffsetWithTotalsPrefetchesAndDeliversInOrder) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.paginate.prefetch = 4;
  });
  OffsetPages(h.fake, 8, /*with_totals=*/true, absl::Milliseconds(100));
  absl::Time start = absl::Now();
  grpc::Status status;
  std::vector<v1::Response> pages = ReadAll(h, List("/projects/1/issues"), &status);
  absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(pages.size(), 8u);
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_EQ(pages[i].page().page(), static_cast<int64_t>(i + 1));
  }
  EXPECT_GE(h.fake.max_in_progress(), 3);  // pages were requested concurrently
  EXPECT_LE(h.fake.max_in_progress(), 4);  // within the prefetch window
  // Sequential would take 800 ms; a generous bound, the window is the proof.
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_EQ(h.fake.request_count(), 8u);
}

TEST(PaginateTest, OffsetWithoutTotalsFallsBackToSequential) {
  GatewayHarness h;
  OffsetPages(h.fake, 4, /*with_totals=*/false, absl::Milliseconds(20));
  grpc::Status status;
  std::vector<v1::Response> pages = ReadAll(h, List("/projects"), &status);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(pages.size(), 4u);
  EXPECT_EQ(pages[3].page().page(), 4);
  EXPECT_FALSE(pages[0].page().has_total_pages());
  EXPECT_EQ(h.fake.max_in_progress(), 1);
}

TEST(PaginateTest, MaxPagesAndMaxItemsStopTheStream) {
  GatewayHarness h;
  OffsetPages(h.fake, 10, /*with_totals=*/true);
  grpc::Status status;
  std::vector<v1::Response> pages = ReadAll(h, List("/projects", 3), &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(pages.size(), 3u);
  EXPECT_LE(h.fake.request_count(), 3u);

  h.fake.ClearRecords();
  OffsetPages(h.fake, 10, /*with_totals=*/false);
  v1::PaginateRequest request = List("/projects");
  request.set_max_items(3);  // two items a page
  pages = ReadAll(h, request, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(pages.size(), 2u);
  EXPECT_EQ(h.fake.request_count(), 2u);
}

TEST(PaginateTest, NextLinkToAnotherHostIsRefused) {
  GatewayHarness h;
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, R"([{"id":1}])")
        .WithHeader("Link",
                    "<https://evil.example/api/v4/projects?id_after=1>; rel=\"next\"");
  });
  grpc::Status status;
  std::vector<v1::Response> pages = ReadAll(h, List("/projects"), &status);
  EXPECT_EQ(pages.size(), 1u);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status, HasReason("NEXT_LINK_REFUSED"));
  EXPECT_EQ(h.fake.request_count(), 1u);
}

TEST(PaginateTest, FailingPageEndsTheStreamAfterEarlierPages) {
  GatewayHarness h;
  h.fake.SetHandler([](const RecordedRequest& r) {
    if (QueryInt(r.query, "page") == 2) {
      return Reply::Json(500, R"({"message":"500 Internal Server Error"})");
    }
    return Reply::Json(200, "[1,2]").WithHeader("x-page", "1").WithHeader(
        "x-next-page", "2");
  });
  grpc::Status status;
  std::vector<v1::Response> pages = ReadAll(h, List("/projects"), &status);
  EXPECT_EQ(pages.size(), 1u);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status, HasReason("GITLAB_INTERNAL_ERROR"));
}

TEST(PaginateTest, CancelStopsUpstreamCalls) {
  GatewayHarness h;
  h.fake.SetHandler([](const RecordedRequest& r) {
    if (QueryInt(r.query, "page") >= 2) return Reply::Do(Reply::Action::kStall);
    return Reply::Json(200, "[1,2]")
        .WithHeader("x-page", "1")
        .WithHeader("x-next-page", "2")
        .WithHeader("x-total-pages", "20");
  });
  grpc::ClientContext context;
  auto reader = h.stub->Paginate(&context, List("/projects"));
  v1::Response page;
  ASSERT_TRUE(reader->Read(&page));
  // Page 1 plus a full prefetch window (4) of stalled pages.
  ASSERT_TRUE(h.fake.WaitForRequests(5, absl::Seconds(5)));
  size_t before = h.fake.request_count();
  ASSERT_EQ(before, 5u);
  context.TryCancel();
  EXPECT_FALSE(reader->Read(&page));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.fake.WaitForClosedByClient(static_cast<int>(before) - 1,
                                           absl::Seconds(5)));
  EXPECT_EQ(h.fake.request_count(), before);
}

TEST(PaginateTest, BadRequestsAreRefused) {
  GatewayHarness h;
  grpc::Status status;
  v1::PaginateRequest negative = List("/projects", -1);
  ReadAll(h, negative, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(OnlyDetail<google::rpc::BadRequest>(status).field_violations(0).field(),
            "max_pages");
  v1::PaginateRequest post = List("/projects");
  post.mutable_request()->set_method("POST");
  ReadAll(h, post, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ReadAll(h, List("../etc"), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Fields are named as paths in the PaginateRequest.
  EXPECT_EQ(OnlyDetail<google::rpc::BadRequest>(status).field_violations(0).field(),
            "request.path");
  EXPECT_EQ(h.fake.request_count(), 0u);
}

}  // namespace
}  // namespace gitlab_gateway::testing
