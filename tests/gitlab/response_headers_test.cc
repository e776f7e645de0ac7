#include "service/gitlab/response_headers.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "service/gitlab/response_body.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

TEST(FindHeaderTest, CaseInsensitiveFirstMatch) {
  const Headers headers = {{"X-Page", "1"}, {"x-page", "2"}, {"Link", ""}};
  EXPECT_EQ(FindHeader(headers, "x-page"), "1");
  EXPECT_EQ(FindHeader(headers, "X-PAGE"), "1");
  EXPECT_EQ(FindHeader(headers, "link"), "");
  EXPECT_EQ(FindHeader(headers, "x-total"), std::nullopt);
  EXPECT_EQ(FindHeader({}, "x-total"), std::nullopt);
}

TEST(ParsePageTest, AllOffsetHeaders) {
  const Headers headers = {{"X-Page", "2"},      {"X-Per-Page", "20"},
                           {"X-Next-Page", "3"}, {"X-Prev-Page", "1"},
                           {"X-Total", "57"},    {"X-Total-Pages", "3"}};
  const v1::Page page = ParsePage(headers);
  EXPECT_EQ(page.page(), 2);
  EXPECT_EQ(page.per_page(), 20);
  EXPECT_EQ(page.next_page(), 3);
  EXPECT_EQ(page.prev_page(), 1);
  ASSERT_TRUE(page.has_total());
  EXPECT_EQ(page.total(), 57);
  ASSERT_TRUE(page.has_total_pages());
  EXPECT_EQ(page.total_pages(), 3);
  EXPECT_EQ(page.next_link(), "");
}

TEST(ParsePageTest, NumberRows) {
  const struct {
    const char* value;
    int64_t next_page;  // 0 = ignored
    bool total_set;
  } rows[] = {
      {"", 0, false},
      {"  ", 0, false},
      {"7", 7, true},
      {" 7 ", 7, true},
      {"0", 0, true},
      {"-1", 0, false},
      {"+3", 0, false},
      {"3.5", 0, false},
      {"abc", 0, false},
      {"12abc", 0, false},
      {"0x10", 0, false},
      {"99999999999999999999", 0, false},
      {"9223372036854775807", INT64_MAX, true},
  };
  for (const auto& row : rows) {
    const Headers headers = {{"x-next-page", row.value},
                             {"x-total", row.value},
                             {"x-total-pages", row.value}};
    const v1::Page page = ParsePage(headers);
    EXPECT_EQ(page.next_page(), row.next_page) << "'" << row.value << "'";
    EXPECT_EQ(page.has_total(), row.total_set) << "'" << row.value << "'";
    EXPECT_EQ(page.has_total_pages(), row.total_set) << "'" << row.value << "'";
    if (row.total_set) {
      EXPECT_EQ(page.total(), row.next_page);
    }
  }
}

TEST(ParsePageTest, MissingHeadersLeaveZeroAndUnset) {
  const v1::Page page = ParsePage({});
  EXPECT_EQ(page.page(), 0);
  EXPECT_EQ(page.per_page(), 0);
  EXPECT_FALSE(page.has_total());
  EXPECT_FALSE(page.has_total_pages());
  EXPECT_EQ(page.next_link(), "");
}

TEST(ParsePageTest, LinkRows) {
  const std::string kNext =
      "https://gitlab.example.com/api/v4/projects?id_after=42&order_by=id"
      "&pagination=keyset&per_page=20&sort=asc";
  const struct {
    const char* name;
    Headers headers;
    std::string next_link;
  } rows[] = {
      {"single", {{"Link", "<" + kNext + ">; rel=\"next\""}}, kNext},
      {"several in one header",
       {{"Link", "<https://g/a?page=1>; rel=\"first\", <" + kNext +
                     ">; rel=\"next\", <https://g/a?page=9>; rel=\"last\""}},
       kNext},
      {"several Link headers",
       {{"link", "<https://g/a?page=1>; rel=\"first\""},
        {"X-Other", "<https://g/x>; rel=\"next\""},
        {"LINK", "<" + kNext + ">; rel=\"next\""}},
       kNext},
      {"first next wins",
       {{"Link", "<https://g/1>; rel=\"next\""},
        {"Link", "<https://g/2>; rel=\"next\""}},
       "https://g/1"},
      {"rel lists several types",
       {{"Link", "<https://g/n>; rel=\"last next\""}},
       "https://g/n"},
      {"unquoted rel, odd case and spacing",
       {{"Link", " <https://g/n> ;REL = Next "}},
       "https://g/n"},
      {"other params before rel",
       {{"Link", "<https://g/n>; title=\"a, b; c\"; rel=\"next\""}},
       "https://g/n"},
      {"comma and semicolon inside the URL",
       {{"Link", "<https://g/a?x=1,2;y=3>; rel=\"next\""}},
       "https://g/a?x=1,2;y=3"},
      {"only the first rel counts",
       {{"Link", "<https://g/p>; rel=\"prev\"; rel=\"next\""}},
       ""},
      {"next with 'nextpage' is not next",
       {{"Link", "<https://g/p>; rel=\"nextpage\""}},
       ""},
      {"no next", {{"Link", "<https://g/a?page=1>; rel=\"first\""}}, ""},
      {"empty header", {{"Link", ""}}, ""},
      {"garbage then a link",
       {{"Link", "garbage; rel=\"next\", <https://g/n>; rel=\"next\""}},
       "https://g/n"},
      {"unterminated URL", {{"Link", "<https://g/n; rel=\"next\""}}, ""},
      {"unterminated quote",
       {{"Link", "<https://g/n>; rel=\"next"}},
       "https://g/n"},
      {"link without params", {{"Link", "<https://g/n>"}}, ""},
      {"relative URL kept as sent",
       {{"Link", "</api/v4/projects?cursor=abc%3D>; rel=\"next\""}},
       "/api/v4/projects?cursor=abc%3D"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(ParsePage(row.headers).next_link(), row.next_link) << row.name;
  }
}

TEST(ParseRateLimitTest, AllHeaders) {
  const Headers headers = {{"RateLimit-Limit", "2000"},
                           {"RateLimit-Remaining", "1999"},
                           {"RateLimit-Observed", "1"},
                           {"RateLimit-Reset", "1700000060"},
                           {"RateLimit-Name", "throttle_authenticated_api"}};
  const v1::RateLimit rate = ParseRateLimit(headers);
  EXPECT_EQ(rate.limit(), 2000);
  EXPECT_EQ(rate.remaining(), 1999);
  EXPECT_EQ(rate.observed(), 1);
  ASSERT_TRUE(rate.has_reset());
  EXPECT_EQ(rate.reset().seconds(), 1700000060);
  EXPECT_EQ(rate.name(), "throttle_authenticated_api");
}

TEST(ParseRateLimitTest, MissingAndGarbageLeaveUnset) {
  const Headers headers = {{"RateLimit-Limit", "lots"},
                           {"RateLimit-Remaining", ""},
                           {"RateLimit-Reset", "-5"}};
  const v1::RateLimit rate = ParseRateLimit(headers);
  EXPECT_FALSE(rate.has_limit());
  EXPECT_FALSE(rate.has_remaining());
  EXPECT_FALSE(rate.has_observed());
  EXPECT_FALSE(rate.has_reset());
  EXPECT_EQ(rate.name(), "");
}

TEST(ParseRateLimitTest, ResetTimeIsTheFallback) {
  const Headers headers = {
      {"RateLimit-ResetTime", "Tue, 14 Nov 2023 22:14:20 GMT"}};
  const v1::RateLimit rate = ParseRateLimit(headers);
  ASSERT_TRUE(rate.has_reset());
  EXPECT_EQ(rate.reset().seconds(),
            absl::ToUnixSeconds(Utc(2023, 11, 14, 22, 14, 20)));
}

// Proto strings must be UTF-8: a stray Latin-1 byte from a proxy is
// repaired, never copied into the Response (which callers could not parse).
TEST(ParseRateLimitTest, NonUtf8BytesAreRepaired) {
  const Headers headers = {{"RateLimit-Name", "throttle_\xE9"},
                           {"Link", "<https://g.example/api/v4/p?c=\xFF>; rel=\"next\""}};
  const v1::RateLimit rate = ParseRateLimit(headers);
  EXPECT_TRUE(IsValidUtf8(rate.name()));
  EXPECT_EQ(rate.name().rfind("throttle_", 0), 0u);
  const v1::Page page = ParsePage(headers);
  EXPECT_TRUE(IsValidUtf8(page.next_link()));
  EXPECT_EQ(page.next_link().rfind("https://g.example/api/v4/p?c=", 0), 0u);
}

TEST(ParseHttpDateTest, Rows) {
  const absl::Time kNov6 = Utc(1994, 11, 6, 8, 49, 37);
  const struct {
    const char* value;
    std::optional<absl::Time> time;
  } rows[] = {
      {"Sun, 06 Nov 1994 08:49:37 GMT", kNov6},
      {"  Sun, 06 Nov 1994 08:49:37 GMT ", kNov6},
      {"Sunday, 06-Nov-94 08:49:37 GMT", kNov6},
      {"Sun Nov  6 08:49:37 1994", kNov6},
      {"Wed, 21 Oct 2015 07:28:00 GMT", Utc(2015, 10, 21, 7, 28, 0)},
      {"Thursday, 01-Jan-26 00:00:00 GMT", Utc(2026, 1, 1, 0, 0, 0)},
      {"Thu, 29 Feb 2024 12:00:00 GMT", Utc(2024, 2, 29, 12, 0, 0)},
      {"Fri, 30 Feb 2024 12:00:00 GMT", std::nullopt},
      {"Sun, 06 Foo 1994 08:49:37 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 25:49:37 GMT", std::nullopt},
      {"Sun, 06 Nov 1994 08:49:37 PST", std::nullopt},
      {"Sun, 06 Nov 1994 08:49 GMT", std::nullopt},
      {"Sun, 06 Nov 94 08:49:37 GMT", std::nullopt},
      {"Sun Nov  6 08:49:37", std::nullopt},
      {"120", std::nullopt},
      {"", std::nullopt},
      {",", std::nullopt},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(ParseHttpDate(row.value), row.time) << row.value;
  }
}

TEST(RetryDelayTest, Rows) {
  const absl::Time now = Utc(2015, 10, 21, 7, 27, 0);
  const int64_t now_unix = absl::ToUnixSeconds(now);
  const struct {
    const char* name;
    Headers headers;
    std::optional<absl::Duration> delay;
  } rows[] = {
      {"delta seconds", {{"Retry-After", "120"}}, absl::Seconds(120)},
      {"zero", {{"retry-after", "0"}}, absl::ZeroDuration()},
      {"http date ahead",
       {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}},
       absl::Seconds(60)},
      {"rfc 850 date",
       {{"Retry-After", "Wednesday, 21-Oct-15 07:28:30 GMT"}},
       absl::Seconds(90)},
      {"asctime date",
       {{"Retry-After", "Wed Oct 21 07:27:10 2015"}},
       absl::Seconds(10)},
      {"date in the past is zero",
       {{"Retry-After", "Wed, 21 Oct 2015 07:00:00 GMT"}},
       absl::ZeroDuration()},
      {"capped", {{"Retry-After", "86400"}}, kMaxRetryDelay},
      {"huge capped", {{"Retry-After", "9223372036854775807"}}, kMaxRetryDelay},
      {"ratelimit reset",
       {{"RateLimit-Reset", std::to_string(now_unix + 30)}},
       absl::Seconds(30)},
      {"ratelimit reset in the past",
       {{"RateLimit-Reset", std::to_string(now_unix - 30)}},
       absl::ZeroDuration()},
      {"ratelimit reset time",
       {{"RateLimit-ResetTime", "Wed, 21 Oct 2015 07:27:45 GMT"}},
       absl::Seconds(45)},
      {"retry-after wins",
       {{"RateLimit-Reset", std::to_string(now_unix + 30)},
        {"Retry-After", "5"}},
       absl::Seconds(5)},
      {"negative retry-after falls back",
       {{"Retry-After", "-5"},
        {"RateLimit-Reset", std::to_string(now_unix + 30)}},
       absl::Seconds(30)},
      {"garbage retry-after falls back",
       {{"Retry-After", "soon"},
        {"RateLimit-Reset", std::to_string(now_unix + 7)}},
       absl::Seconds(7)},
      {"garbage only",
       {{"Retry-After", "soon"}, {"RateLimit-Reset", "x"}},
       std::nullopt},
      {"empty", {{"Retry-After", ""}}, std::nullopt},
      {"none", {}, std::nullopt},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(RetryDelay(row.headers, now), row.delay) << row.name;
  }
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
