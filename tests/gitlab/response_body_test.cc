#include "service/gitlab/response_body.h"

#include <string>

#include "gtest/gtest.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using namespace std::string_literals;

struct Utf8Row {
  const char* name;
  std::string bytes;
  bool valid;
};

TEST(IsValidUtf8Test, Rows) {
  const Utf8Row rows[] = {
      {"empty", "", true},
      {"ascii", "hello", true},
      {"long ascii", std::string(100, 'a'), true},
      {"nul", "a\0b"s, true},
      {"two bytes", "caf\xC3\xA9", true},
      {"three bytes", "\xE2\x82\xAC", true},
      {"four bytes", "\xF0\x9F\x98\x80", true},
      {"last scalar U+10FFFF", "\xF4\x8F\xBF\xBF", true},
      {"U+D7FF before surrogates", "\xED\x9F\xBF", true},
      {"U+E000 after surrogates", "\xEE\x80\x80", true},
      {"smallest 3-byte U+0800", "\xE0\xA0\x80", true},
      {"smallest 4-byte U+10000", "\xF0\x90\x80\x80", true},
      {"non-ascii after 8-byte run", "abcdefghijk\xC3\xA9xyz", true},
      {"overlong NUL C0 80", "\xC0\x80", false},
      {"overlong C1 BF", "\xC1\xBF", false},
      {"overlong 3-byte E0 80 80", "\xE0\x80\x80", false},
      {"overlong 3-byte E0 9F BF", "\xE0\x9F\xBF", false},
      {"overlong 4-byte F0 8F BF BF", "\xF0\x8F\xBF\xBF", false},
      {"high surrogate U+D800", "\xED\xA0\x80", false},
      {"low surrogate U+DFFF", "\xED\xBF\xBF", false},
      {"above U+10FFFF", "\xF4\x90\x80\x80", false},
      {"lead F5", "\xF5\x80\x80\x80", false},
      {"byte FF", "\xFF", false},
      {"lone continuation", "\x80", false},
      {"truncated 2-byte", "a\xC3", false},
      {"truncated 3-byte", "\xE2\x82", false},
      {"truncated 4-byte", "\xF0\x9F\x98", false},
      {"continuation missing mid-string",
       "a\xE2\x82"
       "b",
       false},
      {"bad byte after 16 ascii", std::string(16, 'x') + "\xFE", false},
      {"bad byte inside 8-byte word",
       "abc\xFF"
       "defghij",
       false},
  };
  for (const Utf8Row& row : rows) {
    EXPECT_EQ(IsValidUtf8(row.bytes), row.valid) << row.name;
  }
}

TEST(ToValidUtf8Test, Rows) {
  const struct {
    const char* name;
    std::string in;
    size_t max;
    std::string out;
  } rows[] = {
      {"valid unchanged", "caf\xC3\xA9", 100, "caf\xC3\xA9"},
      {"invalid byte replaced",
       "a\xFF"
       "b",
       100,
       "a\xEF\xBF\xBD"
       "b"},
      {"truncated sequence replaced", "a\xC3", 100, "a\xEF\xBF\xBD"},
      {"surrogate replaced bytewise", "\xED\xA0\x80", 100,
       "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"cut ascii", "abcdef", 3, "abc"},
      {"cut before split character", "a\xC3\xA9", 2, "a"},
      {"cut before replacement", "a\xFF", 3, "a"},
      {"zero max", "abc", 0, ""},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(ToValidUtf8(row.in, row.max), row.out) << row.name;
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(row.in, row.max))) << row.name;
  }
}

TEST(IsTextualTest, Rows) {
  const struct {
    const char* content_type;
    std::string body;
    bool textual;
  } rows[] = {
      {"application/json", R"({"id":1})", true},
      {"application/json; charset=utf-8", R"([])", true},
      {"application/problem+json", "{}", true},
      {"text/plain", "Retry later", true},
      {"TEXT/HTML; charset=UTF-8", "<html></html>", true},
      {"application/xml", "<a/>", true},
      {"application/javascript", "var a;", true},
      {"application/x-www-form-urlencoded", "a=b", true},
      {"image/svg+xml", "<svg/>", true},
      {"", "plain words", true},
      {"application/octet-stream", "valid utf-8 \xC3\xA9", true},
      {"application/octet-stream", "\x89PNG\r\n\x1A\n", false},
      {"", "\x1F\x8B\x08\x00\xFF", false},
      {"text/plain", "latin-1 caf\xE9", false},  // declared text, not UTF-8
      {"application/json", "{\"a\":\"\xFF\"}", false},
      {"image/png", "ABC", false},  // declared binary wins
      {"application/zip", "PK", false},
      {"application/pdf", "%PDF-1.4", false},
      {"application/vnd.unknown", "text", true},
      {"text/plain", "", true},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(IsTextual(row.content_type, row.body), row.textual)
        << row.content_type << " / " << row.body;
  }
}

TEST(SetBodyTest, TextualBodyGoesToText) {
  v1::Response response;
  SetBody("application/json", R"({"id":1})", &response);
  EXPECT_EQ(response.body_case(), v1::Response::kText);
  EXPECT_EQ(response.text(), R"({"id":1})");
}

TEST(SetBodyTest, BinaryBodyGoesToContent) {
  v1::Response response;
  SetBody("application/json", "\xFF\xFE", &response);
  EXPECT_EQ(response.body_case(), v1::Response::kContent);
  EXPECT_EQ(response.content(), "\xFF\xFE");
}

TEST(SetBodyTest, EmptyBodySetsNeither) {
  v1::Response response;
  SetBody("application/json", "", &response);
  EXPECT_EQ(response.body_case(), v1::Response::BODY_NOT_SET);
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
