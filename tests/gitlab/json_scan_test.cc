// TopLevelMember: finds a top-level member's raw value in one pass, row by row.
#include "service/gitlab/json_scan.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace gitlab_gateway::gitlab {
namespace {

struct Row {
  const char* name;
  std::string json;
  std::optional<std::string> want;
};

TEST(TopLevelMemberTest, Rows) {
  const Row rows[] = {
      {"Only", R"({"errors":[1,2]})", "[1,2]"},
      {"AfterData", R"({"data":{"a":[{"b":"}]"}]},"errors":[{"message":"x"}]})",
       R"([{"message":"x"}])"},
      {"NestedIsNotTopLevel", R"({"data":{"errors":[1]}})", std::nullopt},
      {"InsideAString", R"({"data":"\"errors\":[1]"})", std::nullopt},
      {"EscapedQuoteInKey", R"({"a\"errors":1,"errors":"e"})", R"("e")"},
      {"Whitespace", " {\n \"errors\" :\t[ ] \n}", "[ ]"},
      {"Scalar", R"({"x":true,"errors":null})", "null"},
      {"Number", R"({"errors":-1.5e3})", "-1.5e3"},
      {"NotAnObject", R"([{"errors":[1]}])", std::nullopt},
      {"Empty", "", std::nullopt},
      {"EmptyObject", "{}", std::nullopt},
      {"Truncated", R"({"errors":[{"message":"x")", std::nullopt},
      {"TruncatedString", R"({"errors":"abc)", std::nullopt},
      {"MissingColon", R"({"errors" [1]})", std::nullopt},
      {"GarbageAfterMember", R"({"data":1 x "errors":[1]})", std::nullopt},
      {"MissingValue", R"({"errors":})", std::nullopt},
  };
  for (const Row& row : rows) {
    std::optional<absl::string_view> got = TopLevelMember(row.json, "errors");
    std::optional<std::string> got_string;
    if (got.has_value()) got_string = std::string(*got);
    EXPECT_EQ(got_string, row.want) << row.name;
  }
}

TEST(TopLevelMemberTest, DeepNestingCostsNoStack) {
  // A recursive parser would overflow its stack on this.
  std::string json = R"({"data":)" + std::string(1 << 20, '[') +
                     std::string(1 << 20, ']') + R"(,"errors":[2]})";
  std::optional<absl::string_view> got = TopLevelMember(json, "errors");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "[2]");
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
