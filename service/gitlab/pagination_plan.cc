#include "service/gitlab/pagination_plan.h"

#include <algorithm>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "service/gitlab/request_validator.h"
#include "service/gitlab/response_body.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::gitlab {
namespace {

namespace v1 = ::gitlab::gateway::v1;

bool HasParam(const v1::Request& request, absl::string_view key,
              absl::string_view value) {
  for (const v1::Param& p : request.query()) {
    if (p.key() == key && p.value() == value) return true;
  }
  return false;
}

}  // namespace

std::optional<grpc::Status> PaginateRefusal(
    const v1::PaginateRequest& request) {
  if (request.max_pages() < 0 || request.max_items() < 0) {
    return InvalidArgument(
        FieldViolation{request.max_pages() < 0 ? "max_pages" : "max_items",
                       "must not be negative", "INVALID_LIMIT"});
  }
  if (request.request().api() != v1::API_REST_V4) {
    return InvalidArgument(FieldViolation{
        "request.api", "Paginate follows REST pagination only", "INVALID_API"});
  }
  absl::StatusOr<std::string> method = RequestMethod(request.request());
  if (method.ok() && *method != "GET") {
    return InvalidArgument(FieldViolation{
        "request.method", "Paginate lists with GET only", "INVALID_METHOD"});
  }
  if (std::optional<FieldViolation> violation =
          ValidateRequest(request.request())) {
    violation->field = absl::StrCat("request.", violation->field);
    return InvalidArgument(*violation);
  }
  return std::nullopt;
}

v1::Request OffsetPageRequest(const v1::Request& base, int64_t page) {
  v1::Request request = base;
  bool replaced = false;
  for (v1::Param& p : *request.mutable_query()) {
    if (p.key() == "page") {
      p.set_value(absl::StrCat(page));
      replaced = true;
    }
  }
  if (!replaced) {
    v1::Param* p = request.add_query();
    p->set_key("page");
    p->set_value(absl::StrCat(page));
  }
  return request;
}

int64_t PageItems(const v1::Response& page) {
  return CountJsonArrayItems(page.text()).value_or(-1);
}

FollowUp FollowPage(const v1::Request& base, const BaseUrl& base_url,
                    const v1::Response& page, const PageContext& context) {
  FollowUp follow;
  const v1::Page& info = page.page();
  const bool keyset = HasParam(base, "pagination", "keyset") ||
                      (info.page() == 0 && !info.next_link().empty());
  if (context.seq == 1 && !keyset && info.has_total_pages() &&
      info.page() > 0) {
    follow.kind = FollowUp::Kind::kPrefetch;
    follow.page = info.page();
    follow.last_page = std::min(info.total_pages(),
                                info.page() + context.max_pages - 1);
    return follow;
  }
  const int64_t items = PageItems(page);
  if (context.prefetching || items == 0 || context.seq >= context.max_pages ||
      (context.max_items > 0 && context.items_seen >= context.max_items)) {
    return follow;
  }
  if (keyset) {
    if (info.next_link().empty()) return follow;
    absl::StatusOr<std::string> url =
        ResolveNextLink(base_url, info.next_link());
    if (!url.ok()) {
      follow.kind = FollowUp::Kind::kRefused;
      follow.refused =
          GatewayError(grpc::StatusCode::FAILED_PRECONDITION,
                       "NEXT_LINK_REFUSED", url.status().message());
      return follow;
    }
    follow.kind = FollowUp::Kind::kLink;
    follow.url = *std::move(url);
    return follow;
  }
  if (info.next_page() > 0) {
    follow.kind = FollowUp::Kind::kOffset;
    follow.page = info.next_page();
  }
  return follow;
}

}  // namespace gitlab_gateway::gitlab
