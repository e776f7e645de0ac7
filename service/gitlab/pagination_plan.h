#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_PAGINATION_PLAN_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_PAGINATION_PLAN_H_

#include <grpcpp/support/status.h>

#include <cstdint>
#include <optional>
#include <string>

#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/gitlab/url_builder.h"

// How Paginate walks GitLab's pagination, as plain functions (no gRPC
// reactor): which request fetches which page, and what follows a page.
// Pure; any thread.
namespace gitlab_gateway::gitlab {

// The refusal, if any, of a PaginateRequest itself: negative limits, GraphQL,
// a method other than GET, and every check Execute makes, with fields named
// as fields of the PaginateRequest ("request.path").
std::optional<grpc::Status> PaginateRefusal(
    const ::gitlab::gateway::v1::PaginateRequest& request);

// `base` asking for offset page `page` (its "page" parameter replaced, or
// appended when absent).
::gitlab::gateway::v1::Request OffsetPageRequest(
    const ::gitlab::gateway::v1::Request& base, int64_t page);

// The JSON array items on a page; -1 when the body is not a JSON array.
int64_t PageItems(const ::gitlab::gateway::v1::Response& page);

// What a stream knows when page `seq` (1-based) has arrived.
struct PageContext {
  int64_t seq = 1;
  int64_t items_seen = 0;  // items on every page so far, this one included
  int64_t max_pages = 1;   // at least 1
  int64_t max_items = 0;   // 0 = no limit
  bool prefetching = false;  // a prefetch plan is already running
};

// What follows a page.
struct FollowUp {
  enum class Kind {
    kNone,        // the stream ends after this page
    kPrefetch,    // totals known: fetch pages first+1..last concurrently
    kOffset,      // fetch offset page `page`
    kLink,        // fetch exactly `url` (a validated Link rel="next")
    kRefused,     // the next page cannot be fetched: fail with `refused`
  };
  Kind kind = Kind::kNone;
  int64_t page = 0;        // kOffset: the page number; kPrefetch: this page's
  int64_t last_page = 0;   // kPrefetch: the last page to fetch
  std::string url;         // kLink
  grpc::Status refused;    // kRefused
};

// Decides what follows `page` in a stream over `base`:
//  - keyset (pagination=keyset, or a Link rel="next" without x-page): the
//    Link next URL, resolved against `base_url` and validated;
//  - offset, first page, totals known: prefetch up to max_pages;
//  - offset without totals: x-next-page.
// Nothing follows an empty page, page max_pages, or max_items reached.
FollowUp FollowPage(const ::gitlab::gateway::v1::Request& base,
                    const BaseUrl& base_url,
                    const ::gitlab::gateway::v1::Response& page,
                    const PageContext& context);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_PAGINATION_PLAN_H_
