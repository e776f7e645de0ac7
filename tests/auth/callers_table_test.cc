#include "service/auth/callers_table.h"

#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Digests as the README tells operators to compute them
// (printf %s "$secret" | sha256sum), not by the code under test.
constexpr char kPassword[] = "password";
constexpr char kPasswordDigest[] =
    "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
constexpr char kHello[] = "hello";
constexpr char kHelloDigest[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

TEST(CallersTableTest, FindsTheCallerWhoseDigestIsTheSecrets) {
  absl::StatusOr<CallersTable> table = CallersTable::Parse(absl::StrCat(
      "# callers of the gateway\n\n", "release-bot ", kPasswordDigest, "\n",
      "  spiffe://example.org/ci\t", kHelloDigest, "  \n"));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(table->Find(kPassword), "release-bot");
  EXPECT_EQ(table->Find(kHello), "spiffe://example.org/ci");
  EXPECT_EQ(table->Find("hello "), std::nullopt);
  EXPECT_EQ(table->Find("Password"), std::nullopt);
  EXPECT_EQ(table->Find(""), std::nullopt);
  EXPECT_EQ(table->Find(kPasswordDigest), std::nullopt);
  EXPECT_THAT(table->names(),
              ElementsAre("release-bot", "spiffe://example.org/ci"));
}

// Lookups go by the digest's first 8 bytes; the rest must match too.
TEST(CallersTableTest, ADigestSharingOnlyAPrefixDoesNotMatch) {
  std::string near = kHelloDigest;
  near.back() = near.back() == '0' ? '1' : '0';
  absl::StatusOr<CallersTable> only_near =
      CallersTable::Parse(absl::StrCat("near ", near, "\n"));
  ASSERT_TRUE(only_near.ok());
  EXPECT_EQ(only_near->Find(kHello), std::nullopt);
  absl::StatusOr<CallersTable> both = CallersTable::Parse(
      absl::StrCat("near ", near, "\nci ", kHelloDigest, "\n"));
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->Find(kHello), "ci");
}

TEST(CallersTableTest, UppercaseHexIsAccepted) {
  std::string upper = kHelloDigest;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  absl::StatusOr<CallersTable> table =
      CallersTable::Parse(absl::StrCat("ci ", upper));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Find(kHello), "ci");
}

TEST(CallersTableTest, AnEmptyFileHasNoCallers) {
  absl::StatusOr<CallersTable> table = CallersTable::Parse("# none yet\n");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->size(), 0u);
  EXPECT_EQ(table->Find(kHello), std::nullopt);
}

TEST(CallersTableTest, ALongSecretNeverMatches) {
  std::string secret(CallersTable::kMaxSecretBytes + 1, 'x');
  absl::StatusOr<CallersTable> table =
      CallersTable::Parse(absl::StrCat("ci ", kHelloDigest));
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->Find(secret), std::nullopt);
}

struct BadFile {
  const char* name;
  std::string text;
  std::string error;
};

TEST(CallersTableTest, MalformedFilesAreRefusedNamingTheLine) {
  const BadFile rows[] = {
      {"one field", "ci\n", "line 1: must be a caller name and the SHA-256"},
      {"three fields", absl::StrCat("ci ", kHelloDigest, " x"),
       "line 1: must be a caller name"},
      {"short digest", "\n\nci abc\n", "line 3: the digest must be 64 hex"},
      {"not hex", absl::StrCat("ci ", std::string(64, 'g')),
       "line 1: the digest must be 64 hex"},
      {"bad name", absl::StrCat("c!i ", kHelloDigest),
       "line 1: the name may hold only"},
      {"long name", absl::StrCat(std::string(129, 'a'), " ", kHelloDigest),
       "line 1: the name has more than 128 characters"},
      {"anonymous", absl::StrCat("anonymous ", kHelloDigest),
       "line 1: \"anonymous\" is reserved"},
      {"twice", absl::StrCat("ci ", kHelloDigest, "\nci ", kPasswordDigest),
       "line 2: caller \"ci\" is listed twice"},
      {"same digest", absl::StrCat("ci ", kHelloDigest, "\nbot ", kHelloDigest),
       "line 2: caller \"bot\" has the same digest"},
      {"too big", std::string(CallersTable::kMaxBytes + 1, '#'),
       "more than 1048576"},
  };
  for (const BadFile& row : rows) {
    SCOPED_TRACE(row.name);
    absl::StatusOr<CallersTable> table = CallersTable::Parse(row.text);
    ASSERT_FALSE(table.ok());
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(table.status().message()), HasSubstr(row.error));
  }
}

// A raw secret pasted into the file by mistake must not reach the log
// through the error message.
TEST(CallersTableTest, ErrorsNeverQuoteTheLine) {
  absl::StatusOr<CallersTable> table =
      CallersTable::Parse("ci my-raw-secret-value\n");
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(std::string(table.status().message()),
              Not(HasSubstr("my-raw-secret-value")));
}

TEST(CallersTableTest, TooManyCallersAreRefused) {
  std::string text;
  for (size_t i = 0; i <= CallersTable::kMaxCallers; ++i) {
    std::string digest = absl::StrCat(i);
    digest = std::string(64 - digest.size(), '0') + digest;
    absl::StrAppend(&text, "c", i, " ", digest, "\n");
  }
  absl::StatusOr<CallersTable> table = CallersTable::Parse(text);
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(std::string(table.status().message()),
              HasSubstr("more than 10000 callers"));
}

}  // namespace
}  // namespace gitlab_gateway::auth
