#include "service/auth/callers_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::auth {
namespace {

using ::testing::HasSubstr;

constexpr char kHelloDigest[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
constexpr char kPasswordDigest[] =
    "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

class CallersFileTest : public ::testing::Test {
 protected:
  CallersFileTest() {
    char pattern[] = "/tmp/gg-callers-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/callers";
  }
  ~CallersFileTest() override { std::filesystem::remove_all(dir_); }

  // Replaces the file as the kubelet does for a Secret: write aside, rename.
  void Write(const std::string& text) {
    const std::string aside = path_ + ".new";
    std::ofstream(aside) << text;
    std::rename(aside.c_str(), path_.c_str());
  }

  std::string dir_;
  std::string path_;
};

TEST_F(CallersFileTest, OpenRefusesAMissingOrMalformedFileNamingIt) {
  absl::StatusOr<std::unique_ptr<CallersFile>> missing =
      CallersFile::Open(path_, absl::InfiniteDuration());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(path_));
  Write("ci nothex\n");
  absl::StatusOr<std::unique_ptr<CallersFile>> bad =
      CallersFile::Open(path_, absl::InfiniteDuration());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr(absl::StrCat(path_, ": line 1: the digest")));
}

TEST_F(CallersFileTest, PollSwapsTheTableAndKeepsItOnABadReload) {
  Write(absl::StrCat("ci ", kHelloDigest, "\n"));
  absl::StatusOr<std::unique_ptr<CallersFile>> file =
      CallersFile::Open(path_, absl::InfiniteDuration());
  ASSERT_TRUE(file.ok()) << file.status();
  std::shared_ptr<const CallersTable> before = (*file)->table();
  EXPECT_EQ(before->Find("hello"), "ci");

  (*file)->Poll();  // unchanged: nothing reloaded
  EXPECT_EQ((*file)->loads(), 1);

  Write(absl::StrCat("bot ", kPasswordDigest, "\n"));
  (*file)->Poll();
  EXPECT_EQ((*file)->loads(), 2);
  EXPECT_EQ((*file)->table()->Find("hello"), std::nullopt);
  EXPECT_EQ((*file)->table()->Find("password"), "bot");
  // A lookup already holding the old table keeps it.
  EXPECT_EQ(before->Find("hello"), "ci");

  Write("bot not-a-digest\n");
  (*file)->Poll();
  (*file)->Poll();  // the same bad content is refused (and logged) once
  EXPECT_EQ((*file)->failures(), 1);
  EXPECT_EQ((*file)->table()->Find("password"), "bot");

  std::filesystem::remove(path_);
  (*file)->Poll();
  EXPECT_EQ((*file)->failures(), 2);
  EXPECT_EQ((*file)->table()->Find("password"), "bot");

  Write(absl::StrCat("ci ", kHelloDigest, "\n"));
  (*file)->Poll();
  EXPECT_EQ((*file)->loads(), 3);
  EXPECT_EQ((*file)->table()->Find("hello"), "ci");
}

// The reload thread picks a change up by itself.
TEST_F(CallersFileTest, TheReloadThreadSeesAChange) {
  Write(absl::StrCat("ci ", kHelloDigest, "\n"));
  absl::StatusOr<std::unique_ptr<CallersFile>> file =
      CallersFile::Open(path_, absl::Milliseconds(20));
  ASSERT_TRUE(file.ok()) << file.status();
  Write(absl::StrCat("bot ", kPasswordDigest, "\n"));
  ASSERT_TRUE((*file)->AwaitLoads(2, absl::Seconds(30)));
  EXPECT_EQ((*file)->table()->Find("password"), "bot");
  Write("garbage\n");
  ASSERT_TRUE((*file)->AwaitFailures(1, absl::Seconds(30)));
  EXPECT_EQ((*file)->table()->Find("password"), "bot");
}

}  // namespace
}  // namespace gitlab_gateway::auth
