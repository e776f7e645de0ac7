// PolicyStore: the file is read at start (a bad one fails), and reloaded
// off the call path when it changes; a bad new file keeps the old policy.
#include "service/auth/policy_store.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::auth {
namespace {

using ::testing::HasSubstr;

class PolicyStoreTest : public ::testing::Test {
 protected:
  PolicyStoreTest() {
    char tmpl[] = "/tmp/gg-policy-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/policy.json";
  }
  ~PolicyStoreTest() override { std::filesystem::remove_all(dir_); }

  // Replaces the file atomically, like a ConfigMap update.
  void Write(const std::string& text) {
    const std::string tmp = dir_ + "/.tmp";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, path_);
  }

  PolicyStore::Options Options() {
    PolicyStore::Options options;
    options.path = path_;
    options.credential_names = {"default", "readonly"};
    options.poll_interval = absl::Milliseconds(20);
    return options;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(PolicyStoreTest, BadOrMissingFileFailsAtOpenNamingIt) {
  auto missing = PolicyStore::Open(Options());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("--policy_file"));
  EXPECT_THAT(missing.status().message(), HasSubstr(path_));
  Write(R"({"callers": [{"name": "a", "credentials": ["admin"]}]})");
  auto bad = PolicyStore::Open(Options());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("callers[0] (\"a\").credentials"));
}

TEST_F(PolicyStoreTest, ReloadsOnChangeAndKeepsTheOldPolicyOnABadFile) {
  Write(R"({"callers": [{"name": "a"}]})");
  auto store = PolicyStore::Open(Options());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->generation(), 1u);
  EXPECT_NE((*store)->current()->Find("a"), nullptr);

  Write(R"({"callers": [{"name": "b"}]})");
  ASSERT_TRUE((*store)->WaitForGeneration(2, absl::Seconds(10)));
  EXPECT_EQ((*store)->current()->Find("a"), nullptr);
  EXPECT_NE((*store)->current()->Find("b"), nullptr);

  Write("{ not json");
  ASSERT_TRUE((*store)->WaitForFailedReloads(1, absl::Seconds(10)));
  EXPECT_NE((*store)->current()->Find("b"), nullptr);

  std::filesystem::remove(path_);
  ASSERT_TRUE((*store)->WaitForFailedReloads(2, absl::Seconds(10)));
  // Counted (and logged) once per distinct problem, however many polls saw
  // the bad file meanwhile.
  EXPECT_EQ((*store)->failed_reloads(), 2u);
  EXPECT_NE((*store)->current()->Find("b"), nullptr);

  Write(R"({"callers": [{"name": "c"}]})");
  ASSERT_TRUE((*store)->WaitForGeneration(3, absl::Seconds(10)));
  EXPECT_NE((*store)->current()->Find("c"), nullptr);
}

TEST_F(PolicyStoreTest, FixedStoreHasNoFile) {
  PolicyStore store(Policy::Empty());
  EXPECT_EQ(store.current()->size(), 0u);
  EXPECT_EQ(store.generation(), 1u);
}

}  // namespace
}  // namespace gitlab_gateway::auth
