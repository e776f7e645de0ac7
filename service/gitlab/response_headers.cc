#include "service/gitlab/response_headers.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "service/gitlab/response_body.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// A non-negative decimal integer, surrounding whitespace allowed; nullopt for
// empty, signed, fractional, overflowing or otherwise malformed values.
std::optional<int64_t> ParseCount(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      })) {
    return std::nullopt;
  }
  int64_t n = 0;
  if (!absl::SimpleAtoi(value, &n)) return std::nullopt;  // overflow
  return n;
}

std::optional<int64_t> CountHeader(HeaderView headers, absl::string_view name) {
  const auto value = FindHeader(headers, name);
  return value ? ParseCount(*value) : std::nullopt;
}

bool IsLinkSpace(char c) { return c == ' ' || c == '\t'; }

// True when a rel value (a space-separated list of relation types) has "next".
bool RelHasNext(absl::string_view rel) {
  for (absl::string_view type :
       absl::StrSplit(rel, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
    if (absl::EqualsIgnoreCase(type, "next")) return true;
  }
  return false;
}

// The first rel="next" target in one Link header value (RFC 8288 section 3):
//   <uri>; rel="next"; title="x", <uri2>; rel=first
// Per the RFC only a link's first rel parameter counts. Unparseable links
// are skipped up to the next comma.
std::optional<absl::string_view> NextLinkIn(absl::string_view v) {
  size_t i = 0;
  const auto skip_space = [&] {
    while (i < v.size() && IsLinkSpace(v[i])) ++i;
  };
  while (i < v.size()) {
    skip_space();
    if (i < v.size() && v[i] == ',') {
      ++i;
      continue;
    }
    if (i >= v.size()) break;
    size_t close = v[i] == '<' ? v.find('>', i) : absl::string_view::npos;
    if (close == absl::string_view::npos) {  // garbage: resync at a comma
      const size_t comma = v.find(',', i);
      if (comma == absl::string_view::npos) break;
      i = comma + 1;
      continue;
    }
    const absl::string_view target = v.substr(i + 1, close - i - 1);
    i = close + 1;
    bool seen_rel = false, next = false;
    for (skip_space(); i < v.size() && v[i] == ';'; skip_space()) {
      ++i;
      const size_t name_start = i;
      while (i < v.size() && v[i] != '=' && v[i] != ';' && v[i] != ',') ++i;
      const absl::string_view name =
          absl::StripAsciiWhitespace(v.substr(name_start, i - name_start));
      std::string value;
      if (i < v.size() && v[i] == '=') {
        ++i;
        skip_space();
        if (i < v.size() && v[i] == '"') {  // quoted-string
          for (++i; i < v.size() && v[i] != '"'; ++i) {
            if (v[i] == '\\' && i + 1 < v.size()) ++i;
            value.push_back(v[i]);
          }
          if (i < v.size()) ++i;
        } else {
          const size_t start = i;
          while (i < v.size() && v[i] != ';' && v[i] != ',') ++i;
          value = std::string(
              absl::StripAsciiWhitespace(v.substr(start, i - start)));
        }
      }
      if (!seen_rel && absl::EqualsIgnoreCase(name, "rel")) {
        seen_rel = true;
        next = RelHasNext(value);
      }
    }
    if (next) return target;
    if (i < v.size() && v[i] != ',') {  // trailing garbage after the link
      const size_t comma = v.find(',', i);
      i = comma == absl::string_view::npos ? v.size() : comma;
    }
  }
  return std::nullopt;
}

// Parses exactly `digits` ASCII digits (or 1..digits when `exact` is false).
bool ParseDigits(absl::string_view s, size_t digits, bool exact, int* out) {
  if (s.empty() || s.size() > digits || (exact && s.size() != digits)) {
    return false;
  }
  int n = 0;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    n = n * 10 + (c - '0');
  }
  *out = n;
  return true;
}

std::optional<int> ParseMonth(absl::string_view name) {
  static constexpr std::array<absl::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun",
      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t m = 0; m < kMonths.size(); ++m) {
    if (absl::EqualsIgnoreCase(name, kMonths[m]))
      return static_cast<int>(m) + 1;
  }
  return std::nullopt;
}

bool IsWeekday(absl::string_view s) {
  return s.size() >= 3 && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isalpha(static_cast<unsigned char>(c));
         });
}

// Builds a UTC time from date parts and "HH:MM:SS"; rejects impossible dates
// such as Feb 30 instead of letting civil time normalize them.
std::optional<absl::Time> MakeTime(int year, absl::string_view month,
                                   absl::string_view day,
                                   absl::string_view hms) {
  const auto mon = ParseMonth(month);
  int d = 0, h = 0, m = 0, s = 0;
  if (!mon || !ParseDigits(day, 2, false, &d) || hms.size() != 8 ||
      hms[2] != ':' || hms[5] != ':' ||
      !ParseDigits(hms.substr(0, 2), 2, true, &h) ||
      !ParseDigits(hms.substr(3, 2), 2, true, &m) ||
      !ParseDigits(hms.substr(6, 2), 2, true, &s) || h > 23 || m > 59 ||
      s > 60) {
    return std::nullopt;
  }
  const absl::CivilSecond civil(year, *mon, d, h, m, s);
  if (civil.year() != year || civil.month() != *mon || civil.day() != d) {
    return std::nullopt;
  }
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

}  // namespace

std::optional<absl::string_view> FindHeader(HeaderView headers,
                                            absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return absl::string_view(value);
  }
  return std::nullopt;
}

v1::Page ParsePage(HeaderView headers) {
  v1::Page page;
  page.set_page(CountHeader(headers, "x-page").value_or(0));
  page.set_per_page(CountHeader(headers, "x-per-page").value_or(0));
  page.set_next_page(CountHeader(headers, "x-next-page").value_or(0));
  page.set_prev_page(CountHeader(headers, "x-prev-page").value_or(0));
  if (auto total = CountHeader(headers, "x-total")) page.set_total(*total);
  if (auto pages = CountHeader(headers, "x-total-pages")) {
    page.set_total_pages(*pages);
  }
  for (const auto& [key, value] : headers) {
    if (!absl::EqualsIgnoreCase(key, "link")) continue;
    if (auto next = NextLinkIn(value)) {
      // Proto strings must be UTF-8; a repaired link fails the next-link
      // checks loudly instead of making the whole Response unparseable.
      page.set_next_link(ToValidUtf8(*next));
      break;
    }
  }
  return page;
}

v1::RateLimit ParseRateLimit(HeaderView headers) {
  v1::RateLimit rate;
  if (auto n = CountHeader(headers, "ratelimit-limit")) rate.set_limit(*n);
  if (auto n = CountHeader(headers, "ratelimit-remaining")) {
    rate.set_remaining(*n);
  }
  if (auto n = CountHeader(headers, "ratelimit-observed"))
    rate.set_observed(*n);
  if (auto reset = CountHeader(headers, "ratelimit-reset")) {
    rate.mutable_reset()->set_seconds(*reset);
  } else if (auto time = FindHeader(headers, "ratelimit-resettime")) {
    if (auto t = ParseHttpDate(*time)) {
      rate.mutable_reset()->set_seconds(absl::ToUnixSeconds(*t));
    }
  }
  if (auto name = FindHeader(headers, "ratelimit-name")) {
    rate.set_name(ToValidUtf8(absl::StripAsciiWhitespace(*name)));
  }
  return rate;
}

std::optional<absl::Duration> RetryDelay(HeaderView headers, absl::Time now) {
  const auto clamp = [](absl::Duration d) {
    return std::clamp(d, absl::ZeroDuration(), kMaxRetryDelay);
  };
  if (auto retry_after = FindHeader(headers, "retry-after")) {
    if (auto seconds = ParseCount(*retry_after)) {
      return clamp(absl::Seconds(*seconds));
    }
    if (auto at = ParseHttpDate(*retry_after)) return clamp(*at - now);
  }
  if (auto reset = CountHeader(headers, "ratelimit-reset")) {
    return clamp(absl::FromUnixSeconds(*reset) - now);
  }
  if (auto reset_time = FindHeader(headers, "ratelimit-resettime")) {
    if (auto at = ParseHttpDate(*reset_time)) return clamp(*at - now);
  }
  return std::nullopt;
}

std::optional<absl::Time> ParseHttpDate(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  const size_t comma = value.find(',');
  int year = 0;
  if (comma != absl::string_view::npos) {
    if (!IsWeekday(value.substr(0, comma))) return std::nullopt;
    const std::vector<absl::string_view> parts =
        absl::StrSplit(value.substr(comma + 1), ' ', absl::SkipEmpty());
    if (parts.size() == 5 && parts[4] == "GMT" &&  // IMF-fixdate
        ParseDigits(parts[2], 4, true, &year)) {
      return MakeTime(year, parts[1], parts[0], parts[3]);
    }
    if (parts.size() == 3 && parts[2] == "GMT") {  // RFC 850
      const std::vector<absl::string_view> date = absl::StrSplit(parts[0], '-');
      if (date.size() != 3 || !ParseDigits(date[2], 2, true, &year)) {
        return std::nullopt;
      }
      return MakeTime(year < 70 ? 2000 + year : 1900 + year, date[1], date[0],
                      parts[1]);
    }
    return std::nullopt;
  }
  const std::vector<absl::string_view> parts =
      absl::StrSplit(value, ' ', absl::SkipEmpty());
  if (parts.size() == 5 && IsWeekday(parts[0]) &&  // asctime
      ParseDigits(parts[4], 4, true, &year)) {
    return MakeTime(year, parts[1], parts[2], parts[3]);
  }
  return std::nullopt;
}

}  // namespace gitlab_gateway::gitlab
