// PrettyJson: re-indents without touching tokens; refuses what is not an
// object or array.
#include "client/cli/json_pretty.h"

#include "gtest/gtest.h"

namespace gitlab_gateway::cli {
namespace {

TEST(PrettyJsonTest, IndentsObjectsAndArraysKeepingTokens) {
  EXPECT_EQ(PrettyJson(R"({"id":42,"tags":["a","b"],"n":1.50e3,"x":null})"),
            "{\n"
            "  \"id\": 42,\n"
            "  \"tags\": [\n"
            "    \"a\",\n"
            "    \"b\"\n"
            "  ],\n"
            "  \"n\": 1.50e3,\n"
            "  \"x\": null\n"
            "}");
}

TEST(PrettyJsonTest, EmptyContainersStayOnOneLine) {
  EXPECT_EQ(PrettyJson(R"({"a":{},"b":[ ]})"),
            "{\n  \"a\": {},\n  \"b\": []\n}");
  EXPECT_EQ(PrettyJson("[]"), "[]");
  EXPECT_EQ(PrettyJson(" {} \n"), "{}");
}

TEST(PrettyJsonTest, StringsKeepPunctuationEscapesAndSpaces) {
  EXPECT_EQ(PrettyJson(R"(["a, b: {c}", "q\"[x]\\", "  two  spaces"])"),
            "[\n  \"a, b: {c}\",\n  \"q\\\"[x]\\\\\",\n  \"  two  spaces\"\n]");
}

TEST(PrettyJsonTest, ReindentsAlreadyPrettyInput) {
  EXPECT_EQ(PrettyJson("{\n\t\"a\" :\r\n 1 }"), "{\n  \"a\": 1\n}");
}

TEST(PrettyJsonTest, RefusesWhatIsNotAContainer) {
  EXPECT_EQ(PrettyJson(""), std::nullopt);
  EXPECT_EQ(PrettyJson("42"), std::nullopt);
  EXPECT_EQ(PrettyJson("\"text\""), std::nullopt);
  EXPECT_EQ(PrettyJson("<html>{}</html>"), std::nullopt);
}

TEST(PrettyJsonTest, RefusesBrokenStructure) {
  EXPECT_EQ(PrettyJson("{\"a\":1"), std::nullopt);      // unclosed
  EXPECT_EQ(PrettyJson("[1,2}"), std::nullopt);         // mismatched
  EXPECT_EQ(PrettyJson("{\"a\":\"x}"), std::nullopt);   // open string
  EXPECT_EQ(PrettyJson("{} {}"), std::nullopt);         // two values
  EXPECT_EQ(PrettyJson("[1] trailing"), std::nullopt);  // junk after
  EXPECT_EQ(PrettyJson("{}]"), std::nullopt);           // extra closer
  EXPECT_EQ(PrettyJson("[\"a\nb\"]"), std::nullopt);    // raw newline
}

TEST(JsonArrayItemsTest, OneCompactLinePerElement) {
  EXPECT_EQ(
      JsonArrayItems(R"( [ {"iid": 1, "t": "a, b ]"}, [1, 2], "x y", 3 ] )"),
      (std::vector<std::string>{R"({"iid":1,"t":"a, b ]"})", "[1,2]",
                                R"("x y")", "3"}));
  EXPECT_EQ(JsonArrayItems(R"(["\"q\"", {}])"),
            (std::vector<std::string>{R"("\"q\"")", "{}"}));
  EXPECT_EQ(JsonArrayItems("[]"), std::vector<std::string>{});
}

TEST(JsonArrayItemsTest, RefusesWhatIsNotAnArray) {
  EXPECT_EQ(JsonArrayItems(R"({"a":1})"), std::nullopt);
  EXPECT_EQ(JsonArrayItems("[1,"), std::nullopt);
  EXPECT_EQ(JsonArrayItems("plain"), std::nullopt);
}

}  // namespace
}  // namespace gitlab_gateway::cli
