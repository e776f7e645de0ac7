#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_RESPONSE_HEADERS_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_RESPONSE_HEADERS_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gitlab/gateway/v1/gateway.pb.h"

namespace gitlab_gateway::gitlab {

// Response headers as received from GitLab: names in any case, in order,
// duplicates kept.
using HeaderView = absl::Span<const std::pair<std::string, std::string>>;

// Longest delay RetryDelay returns; a later Retry-After is clamped to it.
inline constexpr absl::Duration kMaxRetryDelay = absl::Hours(1);

// Parsers for GitLab's pagination and rate-limit headers. Pure functions; any
// thread. Malformed values are ignored (the field stays unset), never fatal.

// The value of the first header named `name` (ASCII case-insensitive).
std::optional<absl::string_view> FindHeader(HeaderView headers,
                                            absl::string_view name);

// x-page, x-per-page, x-next-page, x-prev-page (absent, empty or malformed:
// 0), x-total and x-total-pages (absent, empty or malformed: unset), and
// next_link: the first rel="next" target of the Link headers (RFC 8288; any
// number of headers, each with comma-separated links), exactly as sent.
//
//   Link: <https://gitlab.example.com/api/v4/projects?id_after=42>; rel="next"
//   -> next_link "https://gitlab.example.com/api/v4/projects?id_after=42"
::gitlab::gateway::v1::Page ParsePage(HeaderView headers);

// RateLimit-Limit, -Remaining, -Observed, -Reset (Unix seconds; when absent,
// the HTTP date in RateLimit-ResetTime) and -Name.
::gitlab::gateway::v1::RateLimit ParseRateLimit(HeaderView headers);

// How long to wait before retrying, from the first usable of:
//   Retry-After as delta-seconds ("120"),
//   Retry-After as an HTTP-date (IMF-fixdate, RFC 850 or asctime),
//   RateLimit-Reset (Unix seconds), RateLimit-ResetTime (HTTP-date).
// Times are relative to `now`; a time in the past gives zero. Negative or
// garbage values are skipped. Clamped to kMaxRetryDelay. nullopt when none.
std::optional<absl::Duration> RetryDelay(HeaderView headers, absl::Time now);

// An HTTP-date (RFC 9110 section 5.6.7) in any of its three forms:
//   "Sun, 06 Nov 1994 08:49:37 GMT"   IMF-fixdate
//   "Sunday, 06-Nov-94 08:49:37 GMT"  RFC 850 (years 70..99 are 19xx)
//   "Sun Nov  6 08:49:37 1994"        asctime
// The weekday name is not checked against the date.
std::optional<absl::Time> ParseHttpDate(absl::string_view value);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_RESPONSE_HEADERS_H_
