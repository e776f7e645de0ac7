#include "service/gitlab/error_body.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/gitlab/response_body.h"

namespace gitlab_gateway::gitlab {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using Violations = std::vector<std::pair<std::string, std::string>>;

struct BodyRow {
  const char* name;
  std::string body;
  const char* content_type;
  std::string message;
  Violations violations;
  std::string error_code;
};

TEST(ParseErrorBodyTest, Rows) {
  const BodyRow rows[] = {
      {"message string",
       R"({"message": "404 Project Not Found"})",
       "application/json",
       "404 Project Not Found",
       {},
       ""},
      {"validation map",
       R"({"message": {"path": ["is too long", "can contain only letters"],
                       "name": ["has already been taken"]}})",
       "application/json",
       "name has already been taken; path is too long; path can contain only "
       "letters",
       {{"name", "has already been taken"},
        {"path", "is too long"},
        {"path", "can contain only letters"}},
       ""},
      {"validation map with a plain string",
       R"({"message": {"title": "can't be blank"}})",
       "application/json",
       "title can't be blank",
       {{"title", "can't be blank"}},
       ""},
      {"base errors read without the key",
       R"({"message": {"base": ["Pipeline is locked"]}})",
       "application/json",
       "Pipeline is locked",
       {{"base", "Pipeline is locked"}},
       ""},
      {"endpoint rate limit",
       R"({"message": {"error": "This endpoint has been requested too many times. Try again later."}})",
       "application/json",
       "This endpoint has been requested too many times. Try again later.",
       {},
       ""},
      {"oauth invalid_token",
       R"({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."})",
       "application/json",
       "invalid_token: Token is expired. You can either do re-authorization or "
       "token refresh.",
       {},
       "invalid_token"},
      {"oauth insufficient_scope",
       R"({"error": "insufficient_scope", "error_description": "The request requires higher privileges than provided by the access token.", "scope": "api"})",
       "application/json",
       "insufficient_scope: The request requires higher privileges than "
       "provided by the access token. (scope: api)",
       {},
       "insufficient_scope"},
      {"oauth code alone",
       R"({"error": "invalid_grant"})",
       "application/json",
       "invalid_grant",
       {},
       "invalid_grant"},
      {"error prose",
       R"({"error": "404 Not Found"})",
       "application/json",
       "404 Not Found",
       {},
       ""},
      {"grape validation error",
       R"({"error": "title is missing"})",
       "",
       "title is missing",
       {},
       ""},
      {"message array",
       R"({"message": ["a", "b"]})",
       "application/json",
       "a; b",
       {},
       ""},
      {"top-level array",
       R"(["x", 2, true])",
       "application/json",
       "x; 2; true",
       {},
       ""},
      {"top-level string",
       R"("just text")",
       "application/json",
       "just text",
       {},
       ""},
      {"graphql errors",
       R"({"errors": [{"message": "Field 'x' doesn't exist"}, {"message": "second"}]})",
       "application/json",
       "Field 'x' doesn't exist; second",
       {},
       ""},
      {"unknown json shown as is",
       R"({ "foo":   1 })",
       "application/json",
       R"({ "foo": 1 })",
       {},
       ""},
      {"null message falls back to json",
       R"({"message": null})",
       "application/json",
       R"({"message": null})",
       {},
       ""},
      {"message wins over error",
       R"({"message": "403 Forbidden", "error": "insufficient_scope"})",
       "application/json",
       "403 Forbidden",
       {},
       "insufficient_scope"},
      {"plain text", "Retry later\n", "text/plain", "Retry later", {}, ""},
      {"plain text collapsed",
       "  Retry\n\n\tlater  please ",
       "",
       "Retry later please",
       {},
       ""},
      {"invalid json is text",
       R"({"message": "unterminated)",
       "application/json",
       R"({"message": "unterminated)",
       {},
       ""},
      {"html with title",
       "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>"
       "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>"
       "</body>\n</html>\n",
       "text/html",
       "502 Bad Gateway",
       {},
       ""},
      {"html title with entities and spaces",
       "<!DOCTYPE html><HTML><HEAD><TITLE>\n  example.com | 504: Gateway "
       "time-out &amp; more\n</TITLE></HEAD></HTML>",
       "text/html; charset=UTF-8",
       "example.com | 504: Gateway time-out & more",
       {},
       ""},
      {"html without title",
       "<html><body>Service Unavailable</body></html>",
       "text/html",
       "non-JSON body (45 bytes)",
       {},
       ""},
      {"html with empty title",
       "<html><title> </title></html>",
       "",
       "non-JSON body (29 bytes)",
       {},
       ""},
      {"binary",
       std::string("\x1F\x8B\x08\x00\xFF\xFE", 6),
       "",
       "non-JSON body (6 bytes)",
       {},
       ""},
      {"text with nul",
       std::string("ab\0cd", 5),
       "text/plain",
       "non-JSON body (5 bytes)",
       {},
       ""},
      {"empty", "", "application/json", "", {}, ""},
      {"whitespace only", " \n ", "text/plain", "", {}, ""},
  };
  for (const BodyRow& row : rows) {
    const ErrorBody parsed = ParseErrorBody(row.body, row.content_type);
    EXPECT_EQ(parsed.message, row.message) << row.name;
    EXPECT_EQ(parsed.field_violations, row.violations) << row.name;
    EXPECT_EQ(parsed.error_code, row.error_code) << row.name;
  }
}

TEST(ParseErrorBodyTest, LongMessagesAreCutAtACharacterBoundary) {
  std::string text;
  for (int i = 0; i < 600; ++i) text += "\xC3\xA9";  // 1200 bytes
  const ErrorBody parsed =
      ParseErrorBody(R"({"message": ")" + text + R"("})", "application/json");
  EXPECT_LE(parsed.message.size(), kMaxErrorMessageBytes);
  EXPECT_GT(parsed.message.size(), kMaxErrorMessageBytes - 8);
  EXPECT_TRUE(IsValidUtf8(parsed.message));
  EXPECT_THAT(parsed.message, ::testing::EndsWith("..."));
}

TEST(ParseErrorBodyTest, HugePlainTextIsBounded) {
  const ErrorBody parsed =
      ParseErrorBody(std::string(10 * 1024 * 1024, 'x'), "text/plain");
  EXPECT_EQ(parsed.message.size(), kMaxErrorMessageBytes);
}

// A JSON body over kMaxParsedErrorBodyBytes is not parsed (that would stall
// the engine thread); its start is the message, still bounded.
TEST(ParseErrorBodyTest, HugeJsonIsNotParsed) {
  std::string body = R"({"message":"first","padding":")";
  body.append(kMaxParsedErrorBodyBytes, 'x');
  body += R"("})";
  const ErrorBody out = ParseErrorBody(body, "application/json");
  EXPECT_EQ(out.message.rfind(R"({"message":"first")", 0), 0u) << out.message;
  EXPECT_LE(out.message.size(), kMaxErrorMessageBytes);
  EXPECT_TRUE(out.field_violations.empty());
}

TEST(ParseErrorBodyTest, ExactlyMaxIsNotCut) {
  const std::string text(kMaxErrorMessageBytes, 'y');
  EXPECT_EQ(ParseErrorBody(text, "").message, text);
}

TEST(ParseErrorBodyTest, InvalidUtf8InsideJsonIsReplaced) {
  const ErrorBody parsed =
      ParseErrorBody("{\"message\": \"caf\xE9\"}", "application/json");
  EXPECT_TRUE(IsValidUtf8(parsed.message));
  EXPECT_THAT(parsed.message, ::testing::StartsWith("caf"));
}

TEST(ParseErrorBodyTest, ViolationTextsAreCollapsed) {
  const ErrorBody parsed = ParseErrorBody(
      R"({"message": {"name": ["has   already\nbeen taken"]}})", "");
  EXPECT_THAT(parsed.field_violations,
              ElementsAre(Pair("name", "has already been taken")));
}

// Found by tests/fuzz/error_answer_fuzzer: each invalid byte becomes a
// 3-byte U+FFFD, which must not take the message past its bound.
TEST(ParseErrorBodyTest, InvalidBytesDoNotTripleTheMessage) {
  const std::string invalid(1000, '\xff');
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"<html><head><title>" + invalid + "</title></head></html>",
       "text/html"},
      {R"({"unknown":")" + invalid + R"("})", "application/json"},
  };
  for (const auto& [body, content_type] : bodies) {
    const ErrorBody parsed = ParseErrorBody(body, content_type);
    EXPECT_LE(parsed.message.size(), kMaxErrorMessageBytes) << content_type;
    EXPECT_TRUE(IsValidUtf8(parsed.message)) << content_type;
    EXPECT_THAT(parsed.message, ::testing::EndsWith("...")) << content_type;
  }
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
