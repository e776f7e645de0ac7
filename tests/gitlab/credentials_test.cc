#include "service/gitlab/credentials.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kSecret[] = "s3cr3t";
const std::string kToken = std::string("glpat-") + kSecret + "-Zx9";

auto RowName = [](const auto& info) { return info.param.name; };

// ---------------------------------------------------------------- kinds

struct KindRow {
  std::string name;
  std::string in;
  std::optional<TokenKind> want;  // nullopt = refused
};

void PrintTo(const KindRow& row, std::ostream* os) { *os << row.name; }

class ParseTokenKindTest : public testing::TestWithParam<KindRow> {};

TEST_P(ParseTokenKindTest, Row) {
  absl::StatusOr<TokenKind> got = ParseTokenKind(GetParam().in);
  if (!GetParam().want.has_value()) {
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(), HasSubstr("private, oauth or job"));
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, *GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Rows, ParseTokenKindTest,
                         testing::ValuesIn(std::vector<KindRow>{
                             {"Private", "private", TokenKind::kPrivate},
                             {"PrivateUpper", "PRIVATE", TokenKind::kPrivate},
                             {"OAuth", "oauth", TokenKind::kOAuth},
                             {"OAuthMixed", "OAuth", TokenKind::kOAuth},
                             {"Job", "job", TokenKind::kJob},
                             {"JobUpper", "JOB", TokenKind::kJob},
                             {"Empty", "", std::nullopt},
                             {"Bearer", "bearer", std::nullopt},
                             {"Padded", " job", std::nullopt},
                             {"Prefix", "priv", std::nullopt},
                         }),
                         RowName);

// ------------------------------------------------ proto and header line

struct ProtoRow {
  std::string name;
  v1::Credentials proto;
  std::optional<TokenKind> kind;  // nullopt = no credential
  std::string header;
};

void PrintTo(const ProtoRow& row, std::ostream* os) { *os << row.name; }

v1::Credentials Proto(int which, const std::string& token) {
  v1::Credentials c;
  if (which == 1) c.set_private_token(token);
  if (which == 2) c.set_oauth_token(token);
  if (which == 3) c.set_job_token(token);
  return c;
}

class CredentialFromProtoTest : public testing::TestWithParam<ProtoRow> {};

TEST_P(CredentialFromProtoTest, Row) {
  const ProtoRow& row = GetParam();
  std::optional<Credential> got = CredentialFromProto(row.proto);
  if (!row.kind.has_value()) {
    EXPECT_FALSE(got.has_value());
    return;
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->kind, *row.kind);
  EXPECT_EQ(AuthHeaderLine(*got), row.header);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CredentialFromProtoTest,
    testing::ValuesIn(std::vector<ProtoRow>{
        {"Unset", Proto(0, ""), std::nullopt, ""},
        {"Private", Proto(1, "t1"), TokenKind::kPrivate, "PRIVATE-TOKEN: t1"},
        {"OAuth", Proto(2, "t2"), TokenKind::kOAuth,
         "Authorization: Bearer t2"},
        {"Job", Proto(3, "t3"), TokenKind::kJob, "JOB-TOKEN: t3"},
        // Set but empty still selects the kind; ValidateRequest refuses it.
        {"PrivateEmpty", Proto(1, ""), TokenKind::kPrivate, "PRIVATE-TOKEN: "},
    }),
    RowName);

// ---------------------------------------------------------------- keys

struct KeyRow {
  std::string name;
  Credential a, b;
  bool same;
};

void PrintTo(const KeyRow& row, std::ostream* os) { *os << row.name; }

class CredentialKeyTest : public testing::TestWithParam<KeyRow> {};

TEST_P(CredentialKeyTest, Row) {
  const KeyRow& row = GetParam();
  const std::string a = CredentialKey(row.a);
  const std::string b = CredentialKey(row.b);
  EXPECT_EQ(a == b, row.same) << a << " vs " << b;
  EXPECT_EQ(a, CredentialKey(row.a)) << "not stable";
  for (const auto& [key, cred] : {std::pair{a, row.a}, std::pair{b, row.b}}) {
    EXPECT_THAT(key, Not(HasSubstr(kSecret)));
    EXPECT_THAT(key, Not(HasSubstr(cred.token)));
    EXPECT_EQ(key.size(), key.find(':') + 1 + 16) << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, CredentialKeyTest,
                         testing::ValuesIn(std::vector<KeyRow>{
                             {"SameCredential",
                              {TokenKind::kPrivate, kToken},
                              {TokenKind::kPrivate, kToken},
                              true},
                             {"OtherToken",
                              {TokenKind::kPrivate, kToken},
                              {TokenKind::kPrivate, kToken + "x"},
                              false},
                             {"OtherKind",
                              {TokenKind::kPrivate, kToken},
                              {TokenKind::kOAuth, kToken},
                              false},
                             {"JobVsOAuth",
                              {TokenKind::kJob, kToken},
                              {TokenKind::kOAuth, kToken},
                              false},
                         }),
                         RowName);

TEST(CredentialKeyTest, NamesTheKind) {
  EXPECT_THAT(CredentialKey({TokenKind::kPrivate, kToken}),
              StartsWith("private:"));
  EXPECT_THAT(CredentialKey({TokenKind::kOAuth, kToken}), StartsWith("oauth:"));
  EXPECT_THAT(CredentialKey({TokenKind::kJob, kToken}), StartsWith("job:"));
}

// ---------------------------------------------------------------- TokenProblem

struct TokenRow {
  std::string name;
  std::string token;
  std::string want;  // "" = accepted
};

void PrintTo(const TokenRow& row, std::ostream* os) { *os << row.name; }

class TokenProblemTest : public testing::TestWithParam<TokenRow> {};

TEST_P(TokenProblemTest, Row) {
  std::optional<std::string> got = TokenProblem(GetParam().token);
  if (GetParam().want.empty()) {
    EXPECT_EQ(got, std::nullopt);
    return;
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_THAT(*got, HasSubstr(GetParam().want));
  EXPECT_THAT(*got, Not(HasSubstr(kSecret)));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, TokenProblemTest,
    testing::ValuesIn(std::vector<TokenRow>{
        {"Pat", kToken, ""},
        {"Punctuation", "a.b-c_d~e+f/g=", ""},
        {"Max", std::string(kMaxTokenBytes, 'a'), ""},
        {"Empty", "", "must not be empty"},
        {"TooLong", std::string(kMaxTokenBytes + 1, 'a'), "at most 4096"},
        {"Space", kToken + " ", "without whitespace"},
        {"Newline", kToken + "\n", "without whitespace"},
        {"Nul", kToken + std::string("\0", 1), "control characters"},
        {"Del", kToken + "\x7f", "printable ASCII"},
        {"Utf8", kToken + "\xC3\xBC", "printable ASCII"},
    }),
    RowName);

// ---------------------------------------------------------------- files

struct FileRow {
  std::string name;
  std::string content;
  std::string want_token;  // "" = refused
  std::string error;       // message substring when refused
};

void PrintTo(const FileRow& row, std::ostream* os) { *os << row.name; }

class LoadCredentialFileTest : public testing::TestWithParam<FileRow> {};

TEST_P(LoadCredentialFileTest, Row) {
  const FileRow& row = GetParam();
  const std::string path = testing::TempDir() + "token-" + row.name;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << row.content;
  }
  absl::StatusOr<Credential> got = LoadCredentialFile(path, TokenKind::kJob);
  std::remove(path.c_str());
  if (row.want_token.empty()) {
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(), HasSubstr(row.error));
    EXPECT_THAT(got.status().message(), HasSubstr(path));
    EXPECT_THAT(got.status().message(), Not(HasSubstr(kSecret)));
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->kind, TokenKind::kJob);
  EXPECT_EQ(got->token, row.want_token);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, LoadCredentialFileTest,
    testing::ValuesIn(std::vector<FileRow>{
        {"Plain", kToken, kToken, ""},
        {"TrailingNewline", kToken + "\n", kToken, ""},
        {"TrailingCrLf", kToken + "\r\n", kToken, ""},
        {"Surrounded", "  \t\n" + kToken + " \n\n", kToken, ""},
        {"Empty", "", "", "is empty"},
        {"OnlyWhitespace", " \n\t\n", "", "is empty"},
        {"TwoLines", kToken + "\n" + kToken + "\n", "", "more than one line"},
        {"CrInside", kToken + "\r" + kToken, "", "more than one line"},
        {"InnerSpace", kToken + " " + kToken, "", "without whitespace"},
        {"ControlChar", kToken + "\x01", "", "control characters"},
        {"TooLongToken", std::string(kMaxTokenBytes, 'a') + kSecret, "",
         "at most 4096"},
        {"HugeFile", std::string(70 * 1024, 'a') + kSecret, "",
         "larger than 65536 bytes"},
    }),
    RowName);

TEST(LoadCredentialFileErrorsTest, MissingFileNamesPath) {
  const std::string path = testing::TempDir() + "no-such-token-file";
  absl::StatusOr<Credential> got =
      LoadCredentialFile(path, TokenKind::kPrivate);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr(path));
}

TEST(LoadCredentialFileErrorsTest, DirectoryIsRefused) {
  absl::StatusOr<Credential> got =
      LoadCredentialFile(testing::TempDir(), TokenKind::kPrivate);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("credential file"));
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
