// Fuzzes the parsers of GitLab's response headers (gitlab/response_headers:
// Link and the x-page family via ParsePage, RateLimit-* via ParseRateLimit,
// Retry-After via RetryDelay, HTTP-dates) and the check of a Link rel="next"
// target (url_builder's ResolveNextLink). Input: one "Name: value" header per
// line, as received (CR kept unless it ends the line).
//
// Invariants: counts are never negative; strings placed in protos are UTF-8
// (the Page and RateLimit serialize and parse back); a retry delay is within
// [0, kMaxRetryDelay]; a parsed HTTP-date prints and parses back to the same
// time; a next link that ResolveNextLink accepts stays under the API root
// with no control byte, space, fragment or dot segment.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "service/gitlab/response_headers.h"
#include "service/gitlab/url_builder.h"
#include "tests/fuzz/fuzz_support.h"

namespace gitlab_gateway::fuzz {
namespace {

namespace v1 = ::gitlab::gateway::v1;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

template <typename Message>
void CheckRoundTrip(const Message& m) {
  std::string wire;
  GG_FUZZ_CHECK(m.SerializeToString(&wire), m.ShortDebugString());
  Message back;
  GG_FUZZ_CHECK(back.ParseFromString(wire), m.ShortDebugString());
}

void CheckPage(const gitlab::BaseUrl& base, const v1::Page& page) {
  GG_FUZZ_CHECK(page.page() >= 0 && page.per_page() >= 0 &&
                    page.next_page() >= 0 && page.prev_page() >= 0 &&
                    page.total() >= 0 && page.total_pages() >= 0,
                page.ShortDebugString());
  GG_FUZZ_CHECK(IsUtf8(page.next_link()), page.next_link());
  GG_FUZZ_CHECK(page.next_link().find('>') == std::string::npos,
                page.next_link());
  CheckRoundTrip(page);
  if (page.next_link().empty()) return;
  absl::StatusOr<std::string> next =
      gitlab::ResolveNextLink(base, page.next_link());
  if (!next.ok()) return;
  const std::string root = absl::StrCat(base.origin, base.prefix, "/api/v4/");
  GG_FUZZ_CHECK(*next == page.next_link(), *next);
  GG_FUZZ_CHECK(absl::StartsWithIgnoreCase(*next, root), *next);
  for (char c : *next) {
    const auto u = static_cast<unsigned char>(c);
    GG_FUZZ_CHECK(u > 0x20 && u != 0x7f && c != '#', *next);
  }
  const absl::string_view rest =
      absl::string_view(*next).substr(root.size() - 1);
  const absl::string_view path = rest.substr(0, rest.find('?'));
  GG_FUZZ_CHECK(!HasDotSegment(path), *next);
  GG_FUZZ_CHECK(!absl::StartsWith(path, "//"), *next);
}

void CheckRateLimit(const v1::RateLimit& rate) {
  GG_FUZZ_CHECK(
      rate.limit() >= 0 && rate.remaining() >= 0 && rate.observed() >= 0,
      rate.ShortDebugString());
  GG_FUZZ_CHECK(IsUtf8(rate.name()), rate.name());
  CheckRoundTrip(rate);
}

void CheckHttpDate(absl::string_view value) {
  std::optional<absl::Time> t = gitlab::ParseHttpDate(value);
  if (!t.has_value()) return;
  const absl::CivilSecond civil = absl::ToCivilSecond(*t, absl::UTCTimeZone());
  // IMF-fixdate needs a four-digit year; RFC 850 gives 1970..2069.
  if (civil.year() < 1000 || civil.year() > 9999) return;
  const std::string printed =
      absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", *t, absl::UTCTimeZone());
  std::optional<absl::Time> back = gitlab::ParseHttpDate(printed);
  GG_FUZZ_CHECK(back.has_value() && *back == *t,
                absl::StrCat(value, " -> ", printed));
}

void TestOneInput(absl::string_view data) {
  static const gitlab::BaseUrl base =
      *gitlab::ParseBaseUrl("https://gitlab.example.com/gitlab");
  std::vector<std::pair<std::string, std::string>> headers;
  for (absl::string_view line : absl::StrSplit(data, '\n')) {
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    headers.push_back(SplitHeader(line));
  }
  const gitlab::HeaderView view(headers);
  CheckPage(base, gitlab::ParsePage(view));
  CheckRateLimit(gitlab::ParseRateLimit(view));
  if (std::optional<absl::Duration> delay = gitlab::RetryDelay(view, kNow)) {
    GG_FUZZ_CHECK(
        *delay >= absl::ZeroDuration() && *delay <= gitlab::kMaxRetryDelay,
        absl::FormatDuration(*delay));
  }
  for (const auto& [name, value] : headers) CheckHttpDate(value);
}

}  // namespace
}  // namespace gitlab_gateway::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gitlab_gateway::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
