// Named credentials: --credentials_dir loading (file per name, kind prefix)
// and Prepare's choice among request, named, caller default and default.
#include "service/gitlab/named_credentials.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/gitlab/prepared_call.h"
#include "tests/support/status_matchers.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

using ::gitlab_gateway::testing::HasReason;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/gg-creds-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  void Write(const std::string& name, const std::string& data) {
    std::ofstream(path_ + "/" + name) << data;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ParseCredentialTextTest, PrefixSaysTheKindElseTheDefaultKind) {
  auto plain = ParseCredentialText("glpat-abc\n", TokenKind::kOAuth, "f");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->kind, TokenKind::kOAuth);
  EXPECT_EQ(plain->token, "glpat-abc");
  auto oauth = ParseCredentialText("oauth:xyz", TokenKind::kPrivate, "f");
  ASSERT_TRUE(oauth.ok());
  EXPECT_EQ(oauth->kind, TokenKind::kOAuth);
  EXPECT_EQ(oauth->token, "xyz");
  auto job = ParseCredentialText("job:j1", TokenKind::kPrivate, "f");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->kind, TokenKind::kJob);
  auto priv = ParseCredentialText("private:p1", TokenKind::kJob, "f");
  ASSERT_TRUE(priv.ok());
  EXPECT_EQ(priv->kind, TokenKind::kPrivate);
}

TEST(ParseCredentialTextTest, BadTokensAreRefusedWithoutEchoingThem) {
  for (const char* text : {"oauth:", "two\nlines-secret", "has space-secret"}) {
    auto parsed = ParseCredentialText(text, TokenKind::kPrivate, "file \"x\"");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_THAT(parsed.status().message(), HasSubstr("file \"x\""));
    EXPECT_THAT(parsed.status().message(), Not(HasSubstr("secret")));
  }
}

TEST(CredentialNameProblemTest, Rows) {
  EXPECT_EQ(CredentialNameProblem("release-bot"), "");
  EXPECT_EQ(CredentialNameProblem("ro.v2_x"), "");
  EXPECT_NE(CredentialNameProblem(""), "");
  EXPECT_NE(CredentialNameProblem("Upper"), "");
  EXPECT_NE(CredentialNameProblem("-lead"), "");
  EXPECT_NE(CredentialNameProblem("a/b"), "");
  EXPECT_NE(CredentialNameProblem(std::string(64, 'a')), "");
}

TEST(LoadCredentialsDirTest, OneCredentialPerFileSkippingDotEntries) {
  TempDir dir;
  dir.Write("readonly", "glpat-ro\n");
  dir.Write("release-bot", "oauth:bot-token");
  dir.Write("..data", "ignored");
  std::filesystem::create_directory(dir.path() + "/..2026_11_30");
  auto loaded = LoadCredentialsDir(dir.path(), TokenKind::kPrivate);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ(loaded->at("readonly").token, "glpat-ro");
  EXPECT_EQ(loaded->at("readonly").kind, TokenKind::kPrivate);
  EXPECT_EQ(loaded->at("release-bot").kind, TokenKind::kOAuth);
}

TEST(LoadCredentialsDirTest, ReservedAndBadNamesAndBadFilesFailNamingTheFile) {
  {
    TempDir dir;
    dir.Write("default", "glpat-x");
    auto loaded = LoadCredentialsDir(dir.path(), TokenKind::kPrivate);
    ASSERT_FALSE(loaded.ok());
    EXPECT_THAT(loaded.status().message(), HasSubstr("reserved"));
  }
  {
    TempDir dir;
    dir.Write("Bad Name", "glpat-x");
    auto loaded = LoadCredentialsDir(dir.path(), TokenKind::kPrivate);
    ASSERT_FALSE(loaded.ok());
    EXPECT_THAT(loaded.status().message(), HasSubstr("Bad Name"));
  }
  {
    TempDir dir;
    dir.Write("empty", "");
    auto loaded = LoadCredentialsDir(dir.path(), TokenKind::kPrivate);
    ASSERT_FALSE(loaded.ok());
    EXPECT_THAT(loaded.status().message(), HasSubstr("empty"));
  }
  auto missing = LoadCredentialsDir("/nonexistent-gg-dir", TokenKind::kPrivate);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent-gg-dir"));
}

// Prepare's resolution.
PrepareOptions Options() {
  PrepareOptions options;
  options.base_url = *ParseBaseUrl("https://gitlab.example");
  options.default_credential = Credential{TokenKind::kPrivate, "gateway-token"};
  auto named = std::make_shared<NamedCredentials>();
  named->emplace("readonly", Credential{TokenKind::kPrivate, "ro-token"});
  named->emplace("release-bot", Credential{TokenKind::kOAuth, "bot-token"});
  options.named_credentials = named;
  return options;
}

v1::Request Get(const std::string& name = "") {
  v1::Request request;
  request.set_path("/user");
  request.set_credential_name(name);
  return request;
}

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST(PrepareCredentialTest, NamedCredentialIsSentAndLabelled) {
  PreparedCall call;
  ASSERT_TRUE(Prepare(Get("release-bot"), Options(), absl::InfiniteFuture(),
                      kNow, &call)
                  .ok());
  EXPECT_THAT(call.http.header_lines,
              ElementsAre("Authorization: Bearer bot-token"));
  EXPECT_EQ(call.credential_name, "release-bot");
  EXPECT_EQ(call.credential_class, "default");
  EXPECT_EQ(call.credential_key,
            CredentialKey(Credential{TokenKind::kOAuth, "bot-token"}));
}

TEST(PrepareCredentialTest, FallbackIsTheCallersDefaultElseTheDefaultToken) {
  PreparedCall call;
  ASSERT_TRUE(
      Prepare(Get(), Options(), absl::InfiniteFuture(), kNow, &call, "readonly")
          .ok());
  EXPECT_THAT(call.http.header_lines, ElementsAre("PRIVATE-TOKEN: ro-token"));
  EXPECT_EQ(call.credential_name, "readonly");
  PreparedCall plain;
  ASSERT_TRUE(
      Prepare(Get(), Options(), absl::InfiniteFuture(), kNow, &plain).ok());
  EXPECT_THAT(plain.http.header_lines,
              ElementsAre("PRIVATE-TOKEN: gateway-token"));
  EXPECT_EQ(plain.credential_name, "default");
  // The request's name wins over the fallback; "default" names the default.
  PreparedCall explicit_default;
  ASSERT_TRUE(Prepare(Get("default"), Options(), absl::InfiniteFuture(), kNow,
                      &explicit_default, "readonly")
                  .ok());
  EXPECT_EQ(explicit_default.credential_name, "default");
}

TEST(PrepareCredentialTest, NoDefaultTokenMeansNone) {
  PrepareOptions options = Options();
  options.default_credential.reset();
  PreparedCall call;
  ASSERT_TRUE(
      Prepare(Get(), options, absl::InfiniteFuture(), kNow, &call).ok());
  EXPECT_TRUE(call.http.header_lines.empty());
  EXPECT_EQ(call.credential_name, "none");
  EXPECT_EQ(call.credential_key, "anonymous");
  grpc::Status refused =
      Prepare(Get("default"), options, absl::InfiniteFuture(), kNow, &call);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused, HasReason("UNKNOWN_CREDENTIAL"));
}

TEST(PrepareCredentialTest, RequestCredentialsAreLabelledRequest) {
  v1::Request request = Get();
  request.mutable_credentials()->set_private_token("caller-token");
  PreparedCall call;
  ASSERT_TRUE(Prepare(request, Options(), absl::InfiniteFuture(), kNow, &call,
                      "readonly")
                  .ok());
  EXPECT_EQ(call.credential_name, "request");
  EXPECT_EQ(call.credential_class, "caller");
  EXPECT_THAT(call.http.header_lines,
              ElementsAre("PRIVATE-TOKEN: caller-token"));
}

TEST(PrepareCredentialTest, UnknownOrInvalidNamesAreRefusedWithoutEcho) {
  PreparedCall call;
  for (const char* name : {"no-such-secret", "glpat Secret Value"}) {
    grpc::Status refused =
        Prepare(Get(name), Options(), absl::InfiniteFuture(), kNow, &call);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(refused.error_message(), HasSubstr("credential_name")) << name;
    EXPECT_THAT(refused.error_message(), Not(HasSubstr("ecret"))) << name;
  }
  v1::Request both = Get("readonly");
  both.mutable_credentials()->set_private_token("caller-token");
  grpc::Status refused =
      Prepare(both, Options(), absl::InfiniteFuture(), kNow, &call);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("credential_name"));
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
